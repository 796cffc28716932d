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
-- KEYS[8]  resubmissions (hash)           {<service>-input}:resubmits
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
local fencing, released, resubmits = KEYS[6], KEYS[7], KEYS[8]
local group, consumer, sid, of, idle, after = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local count, room, checkpointPrefix, reportOwn = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], ARGV[10] == '1'
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Fencing tokens as in acquire.lua (next_token): the first one of this call is max(last + 1, server ms x 1024),
-- the following ones count up from it; the counter is written once, at the end.
local lastToken = tonumber(redis.call('GET', fencing) or '0')
local firstToken = math.max(lastToken + 1, now * 1024)
local issued = 0
local function next_token()
  issued = issued + 1
  return string.format('%.0f', firstToken + issued - 1)
end

-- the consumer of a live session, or nil; remembered for this call (the entries of one chunk mostly name one session)
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

-- whether LBS entry id a is newer than b
local function newer(a, b)
  local da, db = string.find(a, '-', 1, true), string.find(b, '-', 1, true)
  local ma, mb = tonumber(string.sub(a, 1, da - 1)), tonumber(string.sub(b, 1, db - 1))
  if ma ~= mb then return ma > mb end
  return tonumber(string.sub(a, da + 1)) > tonumber(string.sub(b, db + 1))
end

local function parse(record)
  local a = string.find(record, ':', 1, true)
  local b = string.find(record, ':', a + 1, true)
  return string.sub(record, 1, a - 1), string.sub(record, a + 1, b - 1), string.sub(record, b + 1)
end

-- the data stream an LBS entry announces, or nil when it is malformed
local function stream_of(fields)
  for f = 1, #fields, 2 do
    if fields[f] == 'lbs-input' then
      local ok, decoded = pcall(cjson.decode, fields[f + 1])
      if ok and type(decoded) == 'table' and type(decoded['DataStreamName']) == 'string'
          and decoded['DataStreamName'] ~= '' then
        return decoded['DataStreamName']
      end
      return nil
    end
  end
  return nil
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
local claimed = {}
local last = after
local examined = 0
local anyReleased = redis.call('HLEN', released) > 0
-- the entries of the page in one range read (the LBS holds only unfinished entries, so the range is mostly them)
local entries = {}
if #rows > 0 then
  for _, entry in ipairs(redis.call('XRANGE', lbs, rows[1][1], rows[#rows][1])) do
    entries[entry[1]] = entry[2]
  end
end
for _, row in ipairs(rows) do
  local id = row[1]
  if #taken >= room then break end
  last = id
  examined = examined + 1
  local fields = entries[id]
  if not fields then
    redis.call('XACK', lbs, group, id)
  else
    local stream = stream_of(fields)
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
            -- a live session owns the stream under another entry: a newer entry is a submission that arrived while
            -- the stream was being processed (one more run follows the current one); an older one was superseded
            if newer(id, holderId) then
              for f = 1, #fields, 2 do
                if fields[f] == 'lbs-input' then redis.call('HSET', resubmits, stream, fields[f + 1]) end
              end
            end
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
        if anyReleased then redis.call('HDEL', released, stream) end
        claimed[#claimed + 1] = id
        local checkpointKey = checkpointPrefix .. stream
        local checkpoint = redis.call('HGETALL', checkpointKey)
        if #checkpoint > 0 then
          -- a checkpoint kept from an earlier run carries the retention TTL: the stream is live again
          redis.call('PERSIST', checkpointKey)
        end
        taken[#taken + 1] = {stream, token, id, checkpoint, fields}
      end
    end
  end
end
if issued > 0 then
  redis.call('SET', fencing, string.format('%.0f', firstToken + issued - 1))
end
for from = 1, #claimed, 500 do
  local ids = {}
  for k = from, math.min(#claimed, from + 499) do ids[#ids + 1] = claimed[k] end
  ids[#ids + 1] = 'JUSTID'
  redis.call('XCLAIM', lbs, group, consumer, 0, unpack(ids))
end
return {taken, malformed, last, examined, own}
