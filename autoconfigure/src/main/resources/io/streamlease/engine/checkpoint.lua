-- Writes a data stream's checkpoint (position + small user state), only if the caller owns the stream under a
-- live session (fenced). The user state replaces the previous one. The handler attempt count is kept while the
-- position stays the same, and cleared when the position moves (progress was made since the failures were counted).
--
-- KEYS[1]  owners (hash)                  {<service>-input}:owners
-- KEYS[2]  consumer registry (zset)       {<service>-input}:consumers
-- KEYS[3]  sessions (hash)                {<service>-input}:sessions
-- KEYS[4]  checkpoint key (hash)          {<service>-input}:checkpoint:<stream>
-- ARGV[1]  stream name
-- ARGV[2]  expected ownership record "<token>:<sid>:<LBS id>"
-- ARGV[3]  consumer id
-- ARGV[4]  position (last processed data stream entry id, may be "")
-- ARGV[5+2k], ARGV[6+2k]                  user state key, value (stored as field "state:<key>")
--
-- Returns {OK} or {NOT_OWNER, current record or ""}.
local owners, consumers, sessions, checkpointKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local stream, expected, consumer, position = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local a = string.find(expected, ':', 1, true)
local b = string.find(expected, ':', a + 1, true)
local token, sid = string.sub(expected, 1, a - 1), string.sub(expected, a + 1, b - 1)
local record = redis.call('HGET', owners, stream)
if record ~= expected or redis.call('HGET', sessions, consumer) ~= sid
    or tonumber(redis.call('ZSCORE', consumers, consumer) or '0') <= now then
  return {'NOT_OWNER', record or ''}
end
local attempts = redis.call('HGET', checkpointKey, 'attempts')
if (redis.call('HGET', checkpointKey, 'position') or '') ~= position then
  attempts = nil
end
redis.call('DEL', checkpointKey)
local fields = {'position', position, 'token', token}
if attempts then
  fields[#fields + 1] = 'attempts'
  fields[#fields + 1] = attempts
end
for k = 5, #ARGV, 2 do
  fields[#fields + 1] = 'state:' .. ARGV[k]
  fields[#fields + 1] = ARGV[k + 1]
end
-- in slices: Lua's unpack fails beyond about 8,000 values, and the state may be large
for from = 1, #fields, 1000 do
  redis.call('HSET', checkpointKey, unpack(fields, from, math.min(#fields, from + 999)))
end
return {'OK'}
