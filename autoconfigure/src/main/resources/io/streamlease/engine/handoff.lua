-- Hands off leases (graceful release without finishing): deletes each lease this consumer still holds, marks
-- it lapsed in the index so that any sweep sees it at once, and tells peers on the handoff channel.
-- The LBS entries stay pending: the peer that claims a stream XCLAIMs its entry.
--
-- KEYS[1]  lease index (zset)             {<service>-input}:leases
-- KEYS[1+i] (i = 1..n)                    lease key of stream i
-- ARGV[1]  handoff channel                {<service>-input}:handoff
-- ARGV[2]  length of the lease key prefix
-- ARGV[3]  consumer id (named in the handoff message, so that peers leave it out of the claim ranking)
-- ARGV[3+i] (i = 1..n)                    expected lease value "<token>:<instance nonce>:<consumer>" of stream i
--
-- Returns the number of leases handed off.
local index, channel, prefix, consumer = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
local released = {}
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i + 2] then
    redis.call('DEL', KEYS[i])
    local stream = string.sub(KEYS[i], prefix + 1)
    redis.call('ZADD', index, 0, stream)
    released[#released + 1] = stream
  end
end
if #released > 0 then
  redis.call('PUBLISH', channel, cjson.encode({consumer = consumer, streams = released}))
end
return #released
