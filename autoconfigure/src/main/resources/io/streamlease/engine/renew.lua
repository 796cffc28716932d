-- Renews this consumer's session: one call per renewal tick, whatever the number of streams it holds (their
-- ownership records have no TTL of their own: they are valid while the session is live).
--
-- KEYS[1]  consumer registry (zset)       {<service>-input}:consumers         consumer -> session deadline
-- KEYS[2]  sessions (hash)                {<service>-input}:sessions          consumer -> its current session id
-- KEYS[3]  session key (string, PX)       {<service>-input}:session:<consumer>
-- KEYS[4]  consumer instances (hash)      {<service>-input}:consumer-instances consumer -> instance nonce
-- ARGV[1]  consumer id
-- ARGV[2]  session id
-- ARGV[3]  session TTL in ms (hb-interval)
-- ARGV[4]  instance nonce
--
-- Returns {OK, live} with live = {consumer, ms until its deadline, ...} for every live consumer;
-- {LAPSED} when the session's deadline passed before this renewal, or this instance has another session now (a
-- registration whose reply was lost): every stream it held may have been claimed, so the caller disowns them all
-- and registers again; {TAKEN} when another instance registered this consumer id.
local consumers, sessions, sessionKey, instances = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local consumer, sid, ttl, nonce = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local current = redis.call('HGET', sessions, consumer)
if current ~= sid then
  if current and redis.call('HGET', instances, consumer) ~= nonce then return {'TAKEN'} end
  return {'LAPSED'}
end
local deadline = tonumber(redis.call('ZSCORE', consumers, consumer) or '0')
if deadline <= now then
  return {'LAPSED'}
end
redis.call('ZADD', consumers, now + ttl, consumer)
redis.call('SET', sessionKey, sid, 'PX', ttl)
local live = {}
local rows = redis.call('ZRANGEBYSCORE', consumers, now, '+inf', 'WITHSCORES')
for i = 1, #rows, 2 do
  live[#live + 1] = rows[i]
  live[#live + 1] = tostring(tonumber(rows[i + 1]) - now)
end
return {'OK', live}
