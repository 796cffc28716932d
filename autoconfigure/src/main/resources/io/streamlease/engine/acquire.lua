-- Acquires or claims the leases of a batch of data streams, atomically per stream.
--
-- KEYS[1]  LBS stream                     <service>-input
-- KEYS[2]  lease index (zset)             {<service>-input}:leases        member stream, score deadline (server ms)
-- KEYS[3]  assignments (hash)             {<service>-input}:assignments   stream -> LBS entry id
-- KEYS[4]  fencing counter (string)       {<service>-input}:fencing       last token issued (see next_token)
-- KEYS[5]  resubmissions (hash)           {<service>-input}:resubmits     stream -> lbs-input of the latest duplicate
-- KEYS[4+2i], KEYS[5+2i] (i = 1..n)       lease key and checkpoint key of stream i
-- ARGV[1]  group
-- ARGV[2]  consumer id
-- ARGV[3]  lease TTL in ms
-- ARGV[4]  mode: "read" (entries this consumer just read with XREADGROUP) or "claim" (XCLAIM the entry)
-- ARGV[5]  owner "<instance nonce>:<consumer id>"; a lease value is "<token>:<owner>"
-- ARGV[4+2i], ARGV[5+2i] (i = 1..n)       stream name, LBS entry id ("" in claim mode: the assigned entry)
--
-- Returns one array per stream: {status, token, lbsId, recovered, holder, checkpoint fields, entry fields}
--   ACQUIRED   lease taken: fencing token, 1 if a previous owner existed, checkpoint, entry fields (claim mode)
--   OWNED      read mode: this instance already holds it with this entry (an idempotent retry); in claim mode
--              a lease of this instance is taken again with a new token (it was disowned locally)
--   DUPLICATE  another entry for a stream whose lease is held: recorded as a resubmission, acknowledged, deleted
--   HELD       claim mode: another consumer holds the lease (already claimed)
--   GONE       claim mode: the entry is no longer pending (the stream was finished) or no longer exists
local lbs, index, assignments, fencing, resubmits = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local group, consumer, ttl, mode, owner = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local empty = {}

local function entry_fields(id)
  local found = redis.call('XRANGE', lbs, id, id)
  if found[1] then return found[1][2] end
  return nil
end

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

local results = {}
local n = (#ARGV - 5) / 2
for i = 1, n do
  local stream, lbsId = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  local leaseKey, checkpointKey = KEYS[4 + 2 * i], KEYS[5 + 2 * i]
  local holder = redis.call('GET', leaseKey)
  local assigned = redis.call('HGET', assignments, stream)
  if lbsId == '' and assigned then lbsId = assigned end
  if holder and mode == 'claim' and string.sub(holder, (string.find(holder, ':', 1, true) or 0) + 1) == owner then
    -- this instance's own lease, which it no longer holds locally (it disowned it when its renewals could not be
    -- confirmed): take it back under a new token, so that the earlier run and this one never share a token
    holder = nil
  end
  if holder then
    local sep = string.find(holder, ':', 1, true)
    local holderToken, holderOwner = string.sub(holder, 1, sep - 1), string.sub(holder, sep + 1)
    local holderId = string.sub(holderOwner, (string.find(holderOwner, ':', 1, true) or 0) + 1)
    if holderOwner == owner and assigned == lbsId then
      local fields = empty
      if mode == 'claim' then fields = entry_fields(lbsId) or empty end
      results[i] = {'OWNED', holderToken, lbsId, '0', holderId, redis.call('HGETALL', checkpointKey), fields}
    elseif lbsId ~= '' and lbsId ~= assigned then
      -- a second entry for a stream that is being processed: remember it, so that finishing the
      -- current run starts one more run from the checkpoint, and take it out of the LBS
      local fields = entry_fields(lbsId)
      if fields then
        for f = 1, #fields, 2 do
          if fields[f] == 'lbs-input' then redis.call('HSET', resubmits, stream, fields[f + 1]) end
        end
      end
      redis.call('XACK', lbs, group, lbsId)
      redis.call('XDEL', lbs, lbsId)
      results[i] = {'DUPLICATE', holderToken, lbsId, '0', holderId, empty, empty}
    else
      results[i] = {'HELD', holderToken, lbsId, '0', holderId, empty, empty}
    end
  else
    local status = nil
    local fields = empty
    if lbsId == '' then
      redis.call('ZREM', index, stream)
      status = 'GONE'
    elseif mode == 'claim' then
      local pending = redis.call('XPENDING', lbs, group, lbsId, lbsId, 1)
      fields = entry_fields(lbsId)
      if not pending[1] or not fields then
        -- finished by someone else, or deleted while pending: nothing left to claim
        if pending[1] then redis.call('XACK', lbs, group, lbsId) end
        if assigned == lbsId then
          redis.call('HDEL', assignments, stream)
          redis.call('ZREM', index, stream)
        end
        status = 'GONE'
      end
    end
    if status then
      results[i] = {status, '0', lbsId, '0', '', empty, empty}
    else
      local recovered = '0'
      if mode == 'claim' then recovered = '1' end
      if assigned and assigned ~= lbsId then
        -- the stream's earlier entry lapsed unclaimed: this entry supersedes it
        redis.call('XACK', lbs, group, assigned)
        redis.call('XDEL', lbs, assigned)
        recovered = '1'
      end
      local token = next_token()
      redis.call('SET', leaseKey, token .. ':' .. owner, 'PX', ttl)
      redis.call('ZADD', index, now + ttl, stream)
      redis.call('HSET', assignments, stream, lbsId)
      if mode == 'claim' then
        redis.call('XCLAIM', lbs, group, consumer, 0, lbsId, 'JUSTID')
      end
      -- a checkpoint kept from an earlier run carries the retention TTL: the stream is live again
      redis.call('PERSIST', checkpointKey)
      results[i] = {'ACQUIRED', tostring(token), lbsId, recovered, consumer, redis.call('HGETALL', checkpointKey), fields}
    end
  end
end
return results
