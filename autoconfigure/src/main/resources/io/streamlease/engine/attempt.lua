-- Counts one more handler attempt for a data stream, only if the caller owns it under a live session (fenced).
-- The count lives in the checkpoint hash so that it survives a failover.
--
-- KEYS[1]  owners (hash)                  {<service>-input}:owners
-- KEYS[2]  consumer registry (zset)       {<service>-input}:consumers
-- KEYS[3]  sessions (hash)                {<service>-input}:sessions
-- KEYS[4]  checkpoint key (hash)          {<service>-input}:checkpoint:<stream>
-- ARGV[1]  stream name
-- ARGV[2]  expected ownership record "<token>:<sid>:<LBS id>"
-- ARGV[3]  consumer id
--
-- Returns {OK, attempts} or {NOT_OWNER, current record or ""}.
local owners, consumers, sessions, checkpointKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local stream, expected, consumer = ARGV[1], ARGV[2], ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local a = string.find(expected, ':', 1, true)
local b = string.find(expected, ':', a + 1, true)
local sid = string.sub(expected, a + 1, b - 1)
local record = redis.call('HGET', owners, stream)
if record ~= expected or redis.call('HGET', sessions, consumer) ~= sid
    or tonumber(redis.call('ZSCORE', consumers, consumer) or '0') <= now then
  return {'NOT_OWNER', record or ''}
end
return {'OK', tostring(redis.call('HINCRBY', checkpointKey, 'attempts', 1))}
