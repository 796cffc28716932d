-- Moves an LBS entry to the dead-letter stream: adds the dead letter, acknowledges and deletes the entry.
-- When a lease key is given, the move is fenced and also finishes the stream (a handler that failed every
-- attempt): the lease, its index entry and its assignment are removed.
--
-- KEYS[1]  LBS stream                     <service>-input
-- KEYS[2]  dead-letter stream             {<service>-input}:dead-letters
-- KEYS[3]  lease index (zset)             {<service>-input}:leases        (fenced form only)
-- KEYS[4]  assignments (hash)             {<service>-input}:assignments   (fenced form only)
-- KEYS[5]  lease key                      {<service>-input}:lease:<stream> (fenced form only)
-- KEYS[6]  checkpoint key                 {<service>-input}:checkpoint:<stream> (fenced form only)
-- KEYS[7]  resubmissions (hash)           {<service>-input}:resubmits (fenced form only: a resubmission of a
--                                         stream whose handler failed on every attempt is dropped with it)
-- ARGV[1]  group
-- ARGV[2]  LBS entry id
-- ARGV[3]  approximate maximum length of the dead-letter stream
-- ARGV[4]  expected lease value "<token>:<instance nonce>:<consumer>" ("" for the unfenced form: a malformed entry)
-- ARGV[5]  stream name ("" for the unfenced form)
-- ARGV[6+2k], ARGV[7+2k]                  fields of the dead letter
--
-- Returns {OK, dead letter id} or {NOT_OWNER, current holder or ""}.
local lbs, dlq = KEYS[1], KEYS[2]
local group, lbsId, maxlen, expected, stream = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if expected ~= '' then
  local holder = redis.call('GET', KEYS[5])
  if holder ~= expected then
    return {'NOT_OWNER', holder or ''}
  end
  redis.call('DEL', KEYS[5])
  redis.call('ZREM', KEYS[3], stream)
  redis.call('HDEL', KEYS[4], stream)
  redis.call('DEL', KEYS[6])
  redis.call('HDEL', KEYS[7], stream)
end
if expected == '' and not redis.call('XPENDING', lbs, group, lbsId, lbsId, 1)[1] then
  -- a repeated call after a lost reply: the entry was dead-lettered already
  return {'OK', ''}
end
local fields = {}
for k = 6, #ARGV do fields[#fields + 1] = ARGV[k] end
local id = redis.call('XADD', dlq, 'MAXLEN', '~', maxlen, '*', unpack(fields))
redis.call('XACK', lbs, group, lbsId)
redis.call('XDEL', lbs, lbsId)
return {'OK', id}
