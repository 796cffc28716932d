-- One sweep of a service, cheap whatever the number of streams: the live consumers with the time left on their
-- sessions, the pending LBS entries per consumer (a consumer with entries pending that is not live lapsed or
-- departed: its streams are claimable, in chunks), and the streams handed off alone that nobody claimed yet.
-- Also forgets sessions that lapsed long ago, and removes from the group the consumers that are not live, have
-- nothing pending and have been idle longer than that (so the group does not grow forever).
--
-- KEYS[1]  LBS stream                     <service>-input
-- KEYS[2]  consumer registry (zset)       {<service>-input}:consumers
-- KEYS[3]  sessions (hash)                {<service>-input}:sessions
-- KEYS[4]  session consumers (hash)       {<service>-input}:session-consumers
-- KEYS[5]  released (hash)                {<service>-input}:released
-- KEYS[6]  consumer instances (hash)      {<service>-input}:consumer-instances
-- KEYS[7]  loads (hash)                   {<service>-input}:loads
-- ARGV[1]  group
-- ARGV[2]  age in ms after which a lapsed session is forgotten
-- ARGV[3]  how many released streams to return at most
--
-- Returns {live, pending, released}: live = {consumer, ms left, ...}; pending = {consumer, pending count, ...};
-- released = {stream, LBS id, ...}.
local lbs, consumers, sessions, sessionConsumers, released, instances, loads = KEYS[1], KEYS[2], KEYS[3], KEYS[4],
    KEYS[5], KEYS[6], KEYS[7]
local group, forget, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local gone = redis.call('ZRANGEBYSCORE', consumers, '-inf', '(' .. (now - forget))
for _, consumer in ipairs(gone) do
  local sid = redis.call('HGET', sessions, consumer)
  if sid then redis.call('HDEL', sessionConsumers, sid) end
  redis.call('HDEL', sessions, consumer)
  redis.call('HDEL', instances, consumer)
  redis.call('HDEL', loads, consumer)
  redis.call('ZREM', consumers, consumer)
end
local live = {}
local liveSet = {}
local rows = redis.call('ZRANGEBYSCORE', consumers, now, '+inf', 'WITHSCORES')
for i = 1, #rows, 2 do
  live[#live + 1] = rows[i]
  live[#live + 1] = tostring(tonumber(rows[i + 1]) - now)
  liveSet[rows[i]] = true
end
local pending = {}
local ok, summary = pcall(redis.call, 'XPENDING', lbs, group)
if ok and type(summary) == 'table' and type(summary[4]) == 'table' then
  for _, row in ipairs(summary[4]) do
    pending[#pending + 1] = row[1]
    pending[#pending + 1] = tostring(row[2])
  end
end
local okInfo, infos = pcall(redis.call, 'XINFO', 'CONSUMERS', lbs, group)
if okInfo then
  for _, info in ipairs(infos) do
    local fields = {}
    for f = 1, #info, 2 do fields[info[f]] = info[f + 1] end
    if not liveSet[fields['name']] and tonumber(fields['pending']) == 0 and tonumber(fields['idle']) > forget then
      redis.call('XGROUP', 'DELCONSUMER', lbs, group, fields['name'])
    end
  end
end
local handedOff = redis.call('HSCAN', released, '0', 'COUNT', limit)[2]
return {live, pending, handedOff}
