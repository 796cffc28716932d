-- Finishes one data stream (done): deletes its ownership record, acknowledges and deletes its LBS entry, in one
-- step and only if the caller still owns it under a live session (fenced).
--
-- KEYS[1]  LBS stream                     <service>-input
-- KEYS[2]  owners (hash)                  {<service>-input}:owners
-- KEYS[3]  consumer registry (zset)       {<service>-input}:consumers
-- KEYS[4]  sessions (hash)                {<service>-input}:sessions
-- KEYS[5]  resubmissions (hash)           {<service>-input}:resubmits
-- KEYS[6]  checkpoint key                 {<service>-input}:checkpoint:<stream>
-- ARGV[1]  group
-- ARGV[2]  stream name
-- ARGV[3]  expected ownership record "<token>:<sid>:<LBS id>"
-- ARGV[4]  consumer id
-- ARGV[5]  checkpoint retention in ms after the stream is finished (0 deletes the checkpoint)
--
-- Returns {DONE}, {RESUBMITTED, new LBS entry id} when a duplicate arrived while the stream was owned (one more
-- run starts from the kept checkpoint), {FINISHED} when the record is gone because the entry was already finished
-- (a call repeated after a lost reply), or {NOT_OWNER, current record or ""}.
local lbs, owners, consumers, sessions, resubmits, checkpointKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local group, stream, expected, consumer, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local a = string.find(expected, ':', 1, true)
local b = string.find(expected, ':', a + 1, true)
local sid, lbsId = string.sub(expected, a + 1, b - 1), string.sub(expected, b + 1)

local record = redis.call('HGET', owners, stream)
local live = redis.call('HGET', sessions, consumer) == sid
    and tonumber(redis.call('ZSCORE', consumers, consumer) or '0') > now
if record ~= expected or not live then
  if not record and not redis.call('XPENDING', lbs, group, lbsId, lbsId, 1)[1] then
    return {'FINISHED'}
  end
  return {'NOT_OWNER', record or ''}
end
redis.call('HDEL', owners, stream)
redis.call('XACK', lbs, group, lbsId)
redis.call('XDEL', lbs, lbsId)
local again = redis.call('HGET', resubmits, stream)
if again then
  redis.call('HDEL', resubmits, stream)
  redis.call('HDEL', checkpointKey, 'attempts')
  local id = redis.call('XADD', lbs, '*', 'lbs-input', again)
  return {'RESUBMITTED', id}
end
if retention > 0 then
  redis.call('PEXPIRE', checkpointKey, retention)
else
  redis.call('DEL', checkpointKey)
end
return {'DONE'}
