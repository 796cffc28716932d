-- Registers or deregisters a consumer id in the consumer registry.
--
-- KEYS[1]  consumer registry (zset)       {<service>-input}:consumers            consumer -> deadline (server ms)
-- KEYS[2]  consumer instances (hash)      {<service>-input}:consumer-instances   consumer -> instance nonce
-- ARGV[1]  "register" or "deregister"
-- ARGV[2]  consumer id
-- ARGV[3]  instance nonce
-- ARGV[4]  registration TTL in ms
--
-- register returns {OK} or {TAKEN, ms until the other instance's registration lapses};
-- deregister returns {OK} (it only removes this instance's own registration).
local consumers, instances = KEYS[1], KEYS[2]
local action, consumer, nonce, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local current = redis.call('HGET', instances, consumer)
if action == 'deregister' then
  if current == nonce then
    redis.call('HDEL', instances, consumer)
    redis.call('ZREM', consumers, consumer)
  end
  return {'OK'}
end
local deadline = tonumber(redis.call('ZSCORE', consumers, consumer) or '0')
if current and current ~= nonce and deadline > now then
  return {'TAKEN', tostring(deadline - now)}
end
redis.call('HSET', instances, consumer, nonce)
redis.call('ZADD', consumers, now + ttl, consumer)
return {'OK'}
