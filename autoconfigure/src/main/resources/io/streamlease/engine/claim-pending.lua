-- Takes over LBS entries pending in the group whose streams no live session owns: the streams of a lapsed or
-- departed session (a whole session's set, in chunks), entries left pending for the caller's own consumer id by an
-- earlier process or a failed call, and (startup recovery) entries idle for long. Entries of streams owned by a
-- live session are never taken; a pending entry of a stream that a live session now owns under another entry was
-- superseded and is acknowledged and deleted.
--
-- KEYS[1]  LBS stream                     <service>-input
-- KEYS[2]  owners (hash)                  {<service>-input}:owners            stream -> "<token>:<sid>:<LBS id>"
-- KEYS[3]  consumer registry (zset)       {<service>-input}:consumers
-- KEYS[4]  sessions (hash)                {<service>-input}:sessions
-- KEYS[5]  session consumers (hash)       {<service>-input}:session-consumers
-- KEYS[6]  fencing counter (string)       {<service>-input}:fencing
-- KEYS[7]  released (hash)                {<service>-input}:released
-- ARGV[1]  group
-- ARGV[2]  consumer id of the caller
-- ARGV[3]  session id of the caller
-- ARGV[4]  consumer whose pending entries to examine ("" for every consumer)
-- ARGV[5]  minimum idle time in ms (0 for any)
-- ARGV[6]  exclusive lower bound of entry ids ("-" to start at the beginning)
-- ARGV[7]  how many pending entries to examine at most
-- ARGV[8]  how many streams to take at most (the caller's free capacity)
-- ARGV[9]  checkpoint key prefix          {<service>-input}:checkpoint:
-- ARGV[10] "1" to list the entries whose stream the caller's own session owns (the caller takes back those it
--          does not hold locally, after a lost reply), "0" otherwise
--
-- Returns {NOT_LIVE} when the caller's session is not live, else
-- {taken, malformed, last id examined, entries examined, own}: taken is a list of {stream, token, lbsId, checkpoint
-- fields, entry fields}; malformed a list of {lbsId, entry fields} for the caller to dead-letter; own a list of
-- {stream, lbsId} (ARGV[10]). Entries that no
-- longer exist are acknowledged.
local lbs, owners, consumers, sessions, sessionConsumers = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local fencing, released = KEYS[6], KEYS[7]
local group, consumer, sid, of, idle, after = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local count, room, checkpointPrefix, reportOwn = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], ARGV[10] == '1'
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- see acquire.lua
local function next_token()
  local last = tonumber(redis.call('GET', fencing) or '0')
  local floor = now * 1024
  if floor > last + 1 then
    redis.call('SET', fencing, string.format('%.0f', floor))
    return string.format('%.0f', floor)
  end
  return string.format('%.0f', redis.call('INCR', fencing))
end

local function live(session)
  local owner = redis.call('HGET', sessionConsumers, session)
  if not owner or redis.call('HGET', sessions, owner) ~= session then return nil end
  if tonumber(redis.call('ZSCORE', consumers, owner) or '0') <= now then return nil end
  return owner
end

local function parse(record)
  local a = string.find(record, ':', 1, true)
  local b = string.find(record, ':', a + 1, true)
  return string.sub(record, 1, a - 1), string.sub(record, a + 1, b - 1), string.sub(record, b + 1)
end

if live(sid) ~= consumer then
  return {'NOT_LIVE'}
end

local args = {'XPENDING', lbs, group}
if idle > 0 then
  args[#args + 1] = 'IDLE'
  args[#args + 1] = idle
end
if after == '-' then args[#args + 1] = '-' else args[#args + 1] = '(' .. after end
args[#args + 1] = '+'
args[#args + 1] = count
if of ~= '' then args[#args + 1] = of end
local rows = redis.call(unpack(args))

local taken, malformed, own = {}, {}, {}
local last = after
local examined = 0
for _, row in ipairs(rows) do
  local id = row[1]
  if #taken >= room then break end
  last = id
  examined = examined + 1
  local found = redis.call('XRANGE', lbs, id, id)
  if not found[1] then
    redis.call('XACK', lbs, group, id)
  else
    local fields = found[1][2]
    local stream = nil
    for f = 1, #fields, 2 do
      if fields[f] == 'lbs-input' then
        local ok, decoded = pcall(cjson.decode, fields[f + 1])
        if ok and type(decoded) == 'table' and type(decoded['DataStreamName']) == 'string'
            and decoded['DataStreamName'] ~= '' then
          stream = decoded['DataStreamName']
        end
      end
    end
    if not stream then
      malformed[#malformed + 1] = {id, fields}
    else
      local record = redis.call('HGET', owners, stream)
      local take = true
      if record then
        local _, holderSid, holderId = parse(record)
        if live(holderSid) then
          take = false
          if holderSid == sid and holderId == id and reportOwn then
            own[#own + 1] = {stream, id}
          end
          if holderId ~= id then
            -- a live session owns the stream under a newer entry: this one was superseded
            redis.call('XACK', lbs, group, id)
            redis.call('XDEL', lbs, id)
          end
        elseif holderId ~= id then
          -- the record names another entry of the stream, owned by a lapsed session too: this one supersedes it
          redis.call('XACK', lbs, group, holderId)
          redis.call('XDEL', lbs, holderId)
        end
      end
      if take then
        local token = next_token()
        redis.call('HSET', owners, stream, token .. ':' .. sid .. ':' .. id)
        redis.call('HDEL', released, stream)
        redis.call('XCLAIM', lbs, group, consumer, 0, id, 'JUSTID')
        local checkpointKey = checkpointPrefix .. stream
        redis.call('PERSIST', checkpointKey)
        taken[#taken + 1] = {stream, token, id, redis.call('HGETALL', checkpointKey), fields}
      end
    end
  end
end
return {taken, malformed, last, examined, own}
