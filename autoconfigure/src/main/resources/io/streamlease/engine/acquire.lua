-- Acquires (read mode) or claims (claim mode) the ownership of a batch of data streams, atomically per stream.
--
-- Ownership is a record in the owners hash, "<token>:<session id>:<LBS entry id>", with no TTL of its own: it
-- is valid only while the named session is live (its consumer's current session, deadline not passed). A
-- consumer's liveness is renewed once per tick for all its streams (renew.lua).
--
-- KEYS[1]  LBS stream                     <service>-input
-- KEYS[2]  owners (hash)                  {<service>-input}:owners            stream -> "<token>:<sid>:<LBS id>"
-- KEYS[3]  consumer registry (zset)       {<service>-input}:consumers         consumer -> session deadline
-- KEYS[4]  sessions (hash)                {<service>-input}:sessions          consumer -> session id
-- KEYS[5]  session consumers (hash)       {<service>-input}:session-consumers session id -> consumer
-- KEYS[6]  fencing counter (string)       {<service>-input}:fencing           last token issued (see next_token)
-- KEYS[7]  resubmissions (hash)           {<service>-input}:resubmits         stream -> lbs-input of the latest duplicate
-- KEYS[8]  released (hash)                {<service>-input}:released          stream -> LBS id of a stream handed off alone
-- KEYS[8+i] (i = 1..n)                    checkpoint key of stream i
-- ARGV[1]  group
-- ARGV[2]  consumer id
-- ARGV[3]  session id of the caller
-- ARGV[4]  mode: "read" (entries this consumer just read with XREADGROUP) or "claim" (XCLAIM the stream's entry)
-- ARGV[3+2i], ARGV[4+2i] (i = 1..n)       stream name, LBS entry id (claim mode: "" for the entry the stream's
--                                         record or its handoff names)
--
-- Returns {NOT_LIVE} when the caller's own session is not live (nothing was changed), else one array per stream:
-- {status, token, lbsId, recovered, holder, checkpoint fields, entry fields}
--   ACQUIRED   ownership taken: a new fencing token, 1 if an earlier owner existed, the checkpoint, the entry fields
--              (claim mode)
--   OWNED      read mode: the caller's own session already owns it with this entry (an idempotent retry)
--   DUPLICATE  another entry for a stream owned by a live session: recorded as a resubmission, acknowledged, deleted
--   HELD       claim mode: a live session of another consumer owns it (already claimed)
--   GONE       claim mode: its entry is no longer pending (the stream was finished) or no longer exists
local lbs, owners, consumers, sessions, sessionConsumers = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local fencing, resubmits, released = KEYS[6], KEYS[7], KEYS[8]
local group, consumer, sid, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local empty = {}

-- Fencing tokens are hybrid logical clock values: one more than the last token issued, but never less than
-- the server's time in ms x 1024. Tokens strictly increase on one server; after a failover to a replica that
-- lacks the last increments, the new master's clock (later than any acquisition on the old master, as long as the
-- clocks of master and replicas differ by less than the failover takes) still puts every new token above every
-- token the old master issued, so no token is issued twice for one stream.
local function next_token()
  local last = tonumber(redis.call('GET', fencing) or '0')
  local floor = now * 1024
  if floor > last + 1 then
    redis.call('SET', fencing, string.format('%.0f', floor))
    return string.format('%.0f', floor)
  end
  return string.format('%.0f', redis.call('INCR', fencing))
end

-- the consumer of a live session, or nil; remembered for this call
local liveCache = {}
local function live(session)
  local known = liveCache[session]
  if known ~= nil then return known or nil end
  local owner = redis.call('HGET', sessionConsumers, session)
  if owner and (redis.call('HGET', sessions, owner) ~= session
      or tonumber(redis.call('ZSCORE', consumers, owner) or '0') <= now) then
    owner = nil
  end
  liveCache[session] = owner or false
  return owner
end

local function parse(record)
  local a = string.find(record, ':', 1, true)
  local b = string.find(record, ':', a + 1, true)
  return string.sub(record, 1, a - 1), string.sub(record, a + 1, b - 1), string.sub(record, b + 1)
end

local function entry_fields(id)
  local found = redis.call('XRANGE', lbs, id, id)
  if found[1] then return found[1][2] end
  return nil
end

if live(sid) ~= consumer then
  return {'NOT_LIVE'}
end

local results = {}
local n = (#ARGV - 4) / 2
for i = 1, n do
  local stream, lbsId = ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local checkpointKey = KEYS[8 + i]
  local record = redis.call('HGET', owners, stream)
  local holderToken, holderSid, holderId, holder = nil, nil, nil, nil
  if record then
    holderToken, holderSid, holderId = parse(record)
    holder = live(holderSid)
  end
  local take = false
  local recovered = '0'
  local fields = empty
  if mode == 'read' then
    if holder and holderSid == sid and holderId == lbsId then
      results[i] = {'OWNED', holderToken, lbsId, '0', consumer, redis.call('HGETALL', checkpointKey), empty}
    elseif holder and holderId ~= lbsId then
      -- a second entry for a stream that is being processed: remember it, so that finishing the current run
      -- starts one more run from the checkpoint, and take it out of the LBS
      local duplicate = entry_fields(lbsId)
      if duplicate then
        for f = 1, #duplicate, 2 do
          if duplicate[f] == 'lbs-input' then redis.call('HSET', resubmits, stream, duplicate[f + 1]) end
        end
      end
      redis.call('XACK', lbs, group, lbsId)
      redis.call('XDEL', lbs, lbsId)
      results[i] = {'DUPLICATE', holderToken, lbsId, '0', holder, empty, empty}
    elseif holder then
      results[i] = {'HELD', holderToken, lbsId, '0', holder, empty, empty}
    else
      take = true
      local earlier = holderId or redis.call('HGET', released, stream)
      if record or earlier then
        recovered = '1'
      end
      if earlier and earlier ~= lbsId then
        -- the stream's earlier entry lapsed (or was handed off) unclaimed: this entry supersedes it
        redis.call('XACK', lbs, group, earlier)
        redis.call('XDEL', lbs, earlier)
      end
    end
  else
    if holder and holderSid ~= sid then
      results[i] = {'HELD', holderToken, holderId, '0', holder, empty, empty}
    else
      -- free, owned by a lapsed session, or owned by the caller's session although the caller no longer holds it
      -- (it disowned it locally): taken under a new token, so that two runs never share one
      local handedOff = redis.call('HGET', released, stream)
      if handedOff then lbsId = handedOff elseif holderId then lbsId = holderId end
      local pending = (lbsId ~= '') and redis.call('XPENDING', lbs, group, lbsId, lbsId, 1)[1]
      fields = (lbsId ~= '') and entry_fields(lbsId) or nil
      if not pending or not fields then
        -- finished by someone else, or deleted while pending: nothing left to claim
        if pending then redis.call('XACK', lbs, group, lbsId) end
        if record and holderId == lbsId then redis.call('HDEL', owners, stream) end
        redis.call('HDEL', released, stream)
        results[i] = {'GONE', '0', lbsId, '0', '', empty, empty}
      else
        take = true
        recovered = '1'
      end
    end
  end
  if take then
    local token = next_token()
    redis.call('HSET', owners, stream, token .. ':' .. sid .. ':' .. lbsId)
    redis.call('HDEL', released, stream)
    if mode == 'claim' then
      redis.call('XCLAIM', lbs, group, consumer, 0, lbsId, 'JUSTID')
    end
    -- a checkpoint kept from an earlier run carries the retention TTL: the stream is live again
    redis.call('PERSIST', checkpointKey)
    results[i] = {'ACQUIRED', token, lbsId, recovered, consumer, redis.call('HGETALL', checkpointKey), fields}
  end
end
return results
