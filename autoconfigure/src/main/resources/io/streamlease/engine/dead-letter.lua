-- Moves an LBS entry to the dead-letter stream: adds the dead letter, acknowledges and deletes the entry.
-- With an expected ownership record, the move is fenced (the caller must own the stream under a live session) and
-- also finishes the stream (a handler that failed on every attempt): its record, checkpoint and any resubmission go.
--
-- KEYS[1]  LBS stream                     <service>-input
-- KEYS[2]  dead-letter stream             {<service>-input}:dead-letters
-- KEYS[3]  owners (hash)                  {<service>-input}:owners             (fenced form only)
-- KEYS[4]  consumer registry (zset)       {<service>-input}:consumers          (fenced form only)
-- KEYS[5]  sessions (hash)                {<service>-input}:sessions           (fenced form only)
-- KEYS[6]  checkpoint key                 {<service>-input}:checkpoint:<stream> (fenced form only)
-- KEYS[7]  resubmissions (hash)           {<service>-input}:resubmits          (fenced form only)
-- ARGV[1]  group
-- ARGV[2]  LBS entry id
-- ARGV[3]  approximate maximum length of the dead-letter stream
-- ARGV[4]  expected ownership record "<token>:<sid>:<LBS id>" ("" for the unfenced form: a malformed entry)
-- ARGV[5]  stream name ("" for the unfenced form)
-- ARGV[6]  consumer id
-- ARGV[7+2k], ARGV[8+2k]                  fields of the dead letter
--
-- Returns {OK, dead letter id} or {NOT_OWNER, current record or ""}.
local lbs, dlq = KEYS[1], KEYS[2]
local group, lbsId, maxlen, expected, stream, consumer = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if expected ~= '' then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local a = string.find(expected, ':', 1, true)
  local b = string.find(expected, ':', a + 1, true)
  local sid = string.sub(expected, a + 1, b - 1)
  local record = redis.call('HGET', KEYS[3], stream)
  if record ~= expected or redis.call('HGET', KEYS[5], consumer) ~= sid
      or tonumber(redis.call('ZSCORE', KEYS[4], consumer) or '0') <= now then
    return {'NOT_OWNER', record or ''}
  end
  redis.call('HDEL', KEYS[3], stream)
  redis.call('DEL', KEYS[6])
  redis.call('HDEL', KEYS[7], stream)
end
if expected == '' and not redis.call('XPENDING', lbs, group, lbsId, lbsId, 1)[1] then
  -- a repeated call after a lost reply: the entry was dead-lettered already
  return {'OK', ''}
end
local fields = {}
for k = 7, #ARGV do fields[#fields + 1] = ARGV[k] end
local id = redis.call('XADD', dlq, 'MAXLEN', '~', maxlen, '*', unpack(fields))
redis.call('XACK', lbs, group, lbsId)
redis.call('XDEL', lbs, lbsId)
return {'OK', id}
