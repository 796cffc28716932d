-- Registers a consumer id (opening a new session) or deregisters it (ending its session).
--
-- A session is one running instance of a consumer id: its session id (unique per service), its deadline in the
-- registry (server ms, renewed every hb-interval / 2), and its session key with a PX TTL of hb-interval (whose
-- keyspace "expired" event tells peers at once that the session lapsed). Ownership records name a session id
-- and are valid only while that session is live.
--
-- KEYS[1]  consumer registry (zset)       {<service>-input}:consumers         consumer -> session deadline
-- KEYS[2]  sessions (hash)                {<service>-input}:sessions          consumer -> its current session id
-- KEYS[3]  session consumers (hash)       {<service>-input}:session-consumers session id -> consumer
-- KEYS[4]  session counter (string)       {<service>-input}:session-seq
-- KEYS[5]  session key (string, PX)       {<service>-input}:session:<consumer>
-- KEYS[6]  consumer instances (hash)      {<service>-input}:consumer-instances consumer -> instance nonce
-- ARGV[1]  "register" or "deregister"
-- ARGV[2]  consumer id
-- ARGV[3]  session TTL in ms (hb-interval)
-- ARGV[4]  instance nonce (random per engine instance): a live session of the same instance (one it abandoned,
--          or whose registration reply was lost) is ended at once instead of refused
-- ARGV[5]  deregister: the session id to end (only the caller's own session is ended)
--
-- register returns {OK, new session id} or {TAKEN, ms until the live session of that id lapses};
-- deregister returns {OK}.
local consumers, sessions, sessionConsumers, seq, sessionKey, instances = KEYS[1], KEYS[2], KEYS[3], KEYS[4],
    KEYS[5], KEYS[6]
local action, consumer, ttl, nonce = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local current = redis.call('HGET', sessions, consumer)
if action == 'deregister' then
  if current and current == ARGV[5] then
    redis.call('HDEL', instances, consumer)
    redis.call('HDEL', sessions, consumer)
    redis.call('HDEL', sessionConsumers, current)
    redis.call('ZREM', consumers, consumer)
    redis.call('DEL', sessionKey)
  end
  return {'OK'}
end
local deadline = tonumber(redis.call('ZSCORE', consumers, consumer) or '0')
if current and deadline > now and redis.call('HGET', instances, consumer) ~= nonce then
  return {'TAKEN', tostring(deadline - now)}
end
if current then
  redis.call('HDEL', sessionConsumers, current)
end
local sid = tostring(redis.call('INCR', seq))
redis.call('HSET', sessions, consumer, sid)
redis.call('HSET', instances, consumer, nonce)
redis.call('HSET', sessionConsumers, sid, consumer)
redis.call('ZADD', consumers, now + ttl, consumer)
redis.call('SET', sessionKey, sid, 'PX', ttl)
return {'OK', sid}
