-- Test data for claim-pending-cost.sh: N data streams announced on the LBS, each owned by session 1 (lapsed: no
-- consumer names it), their entries pending in pages of 1,000 for consumers A1, A2, ...; consumer B has the live
-- session 2. With ARGV[2] = "1" each stream also has a checkpoint.
--
-- KEYS: LBS, owners, consumers, sessions, session consumers, checkpoint key prefix (as a key name, unused)
-- ARGV: N, "1" or "0" (checkpoints), page size
local lbs, owners, consumers, sessions, sessionConsumers, prefix = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local n, withCheckpoints, page = tonumber(ARGV[1]), ARGV[2] == '1', tonumber(ARGV[3])
pcall(redis.call, 'XGROUP', 'CREATE', lbs, 'g', '$', 'MKSTREAM')
for i = 1, n do
  local stream = 'session-' .. i
  local id = redis.call('XADD', lbs, '*', 'lbs-input', '{"DataStreamName":"' .. stream .. '","Info":{}}')
  redis.call('HSET', owners, stream, string.format('%.0f', 1000000 + i) .. ':1:' .. id)
  if withCheckpoints then
    redis.call('HSET', prefix .. stream, 'position', '1-0', 'token', '1000000', 'state:count', '3')
  end
end
for c = 1, math.ceil(n / page) do
  redis.call('XREADGROUP', 'GROUP', 'g', 'A' .. c, 'COUNT', page, 'STREAMS', lbs, '>')
end
redis.call('HSET', sessions, 'B', '2')
redis.call('HSET', sessionConsumers, '2', 'B')
redis.call('ZADD', consumers, '9999999999999', 'B')
return n
