-- Hands off (graceful release without finishing) and tells peers on the handoff channel, so that they claim at
-- once instead of waiting for a lapse. The LBS entries stay pending: the peer that claims a stream XCLAIMs its
-- entry and resumes from the checkpoint.
--   session mode: ends the caller's whole session in one step, whatever the number of streams it owns: its records
--                 become claimable, and peers take the session's streams over in chunks (claim-pending.lua);
--   streams mode: releases the given streams only (the caller keeps its session), listing each in the released hash.
--
-- KEYS[1]  owners (hash)                  {<service>-input}:owners
-- KEYS[2]  consumer registry (zset)       {<service>-input}:consumers
-- KEYS[3]  sessions (hash)                {<service>-input}:sessions
-- KEYS[4]  session consumers (hash)       {<service>-input}:session-consumers
-- KEYS[5]  released (hash)                {<service>-input}:released          stream -> LBS id
-- KEYS[6]  session key (string, PX)       {<service>-input}:session:<consumer>
-- KEYS[7]  consumer instances (hash)      {<service>-input}:consumer-instances
-- KEYS[8]  loads (hash)                   {<service>-input}:loads
-- ARGV[1]  "session" or "streams"
-- ARGV[2]  handoff channel                {<service>-input}:handoff
-- ARGV[3]  consumer id
-- ARGV[4]  session id
-- ARGV[5]  (streams mode) the consumer meant to claim them (a rebalance), or "" for any peer
-- ARGV[6], ARGV[7] ... (streams mode)     stream name, expected ownership record "<token>:<sid>:<LBS id>"
--
-- Returns how many streams were handed off (session mode: 1 if the session was ended, 0 if it was not live).
local owners, consumers, sessions, sessionConsumers, released, sessionKey, instances, loads = KEYS[1], KEYS[2],
    KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local mode, channel, consumer, sid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HGET', sessions, consumer) ~= sid then
  return 0
end
if mode == 'session' then
  redis.call('HDEL', sessions, consumer)
  redis.call('HDEL', instances, consumer)
  redis.call('HDEL', sessionConsumers, sid)
  redis.call('ZREM', consumers, consumer)
  redis.call('DEL', sessionKey)
  redis.call('HDEL', loads, consumer)
  redis.call('PUBLISH', channel, cjson.encode({consumer = consumer, session = sid}))
  return 1
end
local target = ARGV[5]
local streams = {}
for i = 6, #ARGV, 2 do
  local stream, expected = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', owners, stream) == expected then
    local b = string.find(expected, ':', string.find(expected, ':', 1, true) + 1, true)
    local lbsId = string.sub(expected, b + 1)
    redis.call('HDEL', owners, stream)
    redis.call('HSET', released, stream, lbsId)
    streams[#streams + 1] = {stream, lbsId}
  end
end
if #streams > 0 then
  local message = {consumer = consumer, streams = streams}
  if target ~= '' then message.target = target end
  redis.call('PUBLISH', channel, cjson.encode(message))
end
return #streams
