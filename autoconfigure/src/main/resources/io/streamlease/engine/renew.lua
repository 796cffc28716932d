-- Renews a chunk of leases held by one consumer, and (for the first chunk of a tick) the consumer's registration.
-- The lease index is not touched here: its scores may lag behind renewals, and the sweep re-scores a live lease
-- when it meets one whose score has passed (a third of the Redis work of a renewal was that ZADD).
--
-- KEYS[1]  lease index (zset)             {<service>-input}:leases (unused; kept so the routing key stays the same)
-- KEYS[2]  consumer registry (zset)       {<service>-input}:consumers            consumer -> deadline (server ms)
-- KEYS[3]  consumer instances (hash)      {<service>-input}:consumer-instances   consumer -> instance nonce
-- KEYS[3+i] (i = 1..n)                    lease key of stream i
-- ARGV[1]  consumer id
-- ARGV[2]  lease TTL in ms
-- ARGV[3]  instance nonce
-- ARGV[4]  "1" to renew the registration and return the live consumers, "0" otherwise
-- ARGV[5]  length of the lease key prefix in bytes (unused since the index is not written)
-- ARGV[5+i] (i = 1..n)                    expected lease value "<token>:<instance nonce>:<consumer>" of stream i
--
-- Returns {registration, lost, live}: registration is OK, TAKEN (another instance registered this consumer
-- id) or SKIPPED; lost lists the 1-based positions of leases that are gone or foreign; live lists the
-- consumers whose registration has not lapsed.
local consumers, instances = KEYS[2], KEYS[3]
local consumer, ttl, nonce, heartbeat = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local registration = 'SKIPPED'
local live = {}
if heartbeat == '1' then
  local current = redis.call('HGET', instances, consumer)
  if current and current ~= nonce then
    registration = 'TAKEN'
  else
    redis.call('HSET', instances, consumer, nonce)
    redis.call('ZADD', consumers, now + ttl, consumer)
    registration = 'OK'
  end
  live = redis.call('ZRANGEBYSCORE', consumers, now, '+inf')
end

local lost = {}
for i = 4, #KEYS do
  local key = KEYS[i]
  if registration ~= 'TAKEN' and redis.call('GET', key) == ARGV[i + 2] then
    redis.call('PEXPIRE', key, ttl)
  else
    lost[#lost + 1] = i - 3
  end
end
return {registration, lost, live}
