-- One sweep of a service: the leases whose deadline passed, the live consumers, and the pending LBS entries
-- per consumer (so that the caller can find entries held by consumers that are gone).
-- Renewals do not write the lease index, so an entry whose score passed may belong to a lease that is still
-- held: such an entry is re-scored with the lease's remaining TTL, and only leases whose key is gone are
-- returned as lapsed. Touching a lapsed key also makes Redis expire it at once (and send its keyspace event).
-- Also forgets registrations that lapsed long ago, and removes from the group the consumers that are not
-- registered, have nothing pending and have been idle longer than that (so the group does not grow forever).
--
-- KEYS[1]  lease index (zset)             {<service>-input}:leases
-- KEYS[2]  consumer registry (zset)       {<service>-input}:consumers
-- KEYS[3]  consumer instances (hash)      {<service>-input}:consumer-instances
-- KEYS[4]  LBS stream                     <service>-input
-- ARGV[1]  group
-- ARGV[2]  maximum number of lapsed leases to return
-- ARGV[3]  age in ms after which a lapsed registration is forgotten
-- ARGV[4]  the lease key prefix {<service>-input}:lease: (a lease key is the prefix and the stream name)
-- ARGV[5]  how many overdue entries to skip: the lapsed ones earlier pages of this sweep returned (live ones
--          are re-scored into the future, so they leave the overdue range by themselves)
--
-- Returns {lapsed streams, live consumers, {consumer, pending count, ...}, index entries examined}.
local index, consumers, instances, lbs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, limit, forget, prefix, skip = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local due = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. now, 'LIMIT', skip, limit)
local lapsed = {}
local rescored = {}
for _, stream in ipairs(due) do
  local left = redis.call('PTTL', prefix .. stream)
  if left == -2 then
    lapsed[#lapsed + 1] = stream
  else
    if left < 0 then left = 0 end
    rescored[#rescored + 1] = now + left
    rescored[#rescored + 1] = stream
    if #rescored >= 2000 then
      redis.call('ZADD', index, unpack(rescored))
      rescored = {}
    end
  end
end
if #rescored > 0 then
  redis.call('ZADD', index, unpack(rescored))
end
local gone = redis.call('ZRANGEBYSCORE', consumers, '-inf', '(' .. (now - forget))
for _, consumer in ipairs(gone) do
  redis.call('ZREM', consumers, consumer)
  redis.call('HDEL', instances, consumer)
end
local live = redis.call('ZRANGEBYSCORE', consumers, now, '+inf')
local pending = {}
local ok, summary = pcall(redis.call, 'XPENDING', lbs, group)
if ok and type(summary) == 'table' and type(summary[4]) == 'table' then
  for _, row in ipairs(summary[4]) do
    pending[#pending + 1] = row[1]
    pending[#pending + 1] = tostring(row[2])
  end
end
local liveSet = {}
for _, consumer in ipairs(live) do liveSet[consumer] = true end
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
return {lapsed, live, pending, #due}
