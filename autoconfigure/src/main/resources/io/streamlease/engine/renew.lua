-- Renews this consumer's session: one call per renewal tick, whatever the number of streams it holds (their
-- ownership records have no TTL of their own: they are valid while the session is live). In the same call it
-- publishes this consumer's load (capacity and held count) and reads every live consumer's, for fair share.
--
-- KEYS[1]  consumer registry (zset)       {<service>-input}:consumers         consumer -> session deadline
-- KEYS[2]  sessions (hash)                {<service>-input}:sessions          consumer -> its current session id
-- KEYS[3]  session key (string, PX)       {<service>-input}:session:<consumer>
-- KEYS[4]  consumer instances (hash)      {<service>-input}:consumer-instances consumer -> instance nonce
-- KEYS[5]  loads (hash)                   {<service>-input}:loads             consumer -> "<sid>:<capacity>:<held>:<since>"
-- KEYS[6]  owners (hash)                  {<service>-input}:owners
-- KEYS[7]  released (hash)                {<service>-input}:released
-- ARGV[1]  consumer id
-- ARGV[2]  session id
-- ARGV[3]  session TTL in ms (hb-interval)
-- ARGV[4]  instance nonce
-- ARGV[5]  capacity (max-concurrent-streams)
-- ARGV[6]  streams held now
--
-- Returns {OK, live, loads, total} with live = {consumer, ms until its deadline, ...} for every live consumer;
-- loads = {consumer, capacity, held, ms since its session first renewed, ...} for every live consumer whose current
-- session published a load; total = the service's streams (owners + released, HLEN each).
-- {LAPSED} when the session's deadline passed before this renewal, or this instance has another session now (a
-- registration whose reply was lost): every stream it held may have been claimed, so the caller disowns them all
-- and registers again; {TAKEN} when another instance registered this consumer id.
local consumers, sessions, sessionKey, instances, loads, owners, released = KEYS[1], KEYS[2], KEYS[3], KEYS[4],
    KEYS[5], KEYS[6], KEYS[7]
local consumer, sid, ttl, nonce, capacity, held = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
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

-- the load: "<sid>:<capacity>:<held>:<since>", since = server ms of this session's first renewal
local since = now
local previous = redis.call('HGET', loads, consumer)
if previous then
  local psid, _, _, psince = string.match(previous, '^([^:]*):([^:]*):([^:]*):([^:]*)$')
  if psid == sid and psince then since = tonumber(psince) end
end
redis.call('HSET', loads, consumer, sid .. ':' .. capacity .. ':' .. held .. ':' .. since)

local live = {}
local names = {}
local rows = redis.call('ZRANGEBYSCORE', consumers, now, '+inf', 'WITHSCORES')
for i = 1, #rows, 2 do
  live[#live + 1] = rows[i]
  live[#live + 1] = tostring(tonumber(rows[i + 1]) - now)
  names[#names + 1] = rows[i]
end
local shares = {}
if #names > 0 then
  local values = redis.call('HMGET', loads, unpack(names))
  local currentSids = redis.call('HMGET', sessions, unpack(names))
  for i, name in ipairs(names) do
    if values[i] then
      local lsid, lcap, lheld, lsince = string.match(values[i], '^([^:]*):([^:]*):([^:]*):([^:]*)$')
      if lsid and lsid == currentSids[i] then
        shares[#shares + 1] = name
        shares[#shares + 1] = lcap
        shares[#shares + 1] = lheld
        shares[#shares + 1] = tostring(now - tonumber(lsince))
      end
    end
  end
end
local total = redis.call('HLEN', owners) + redis.call('HLEN', released)
return {'OK', live, shares, total}
