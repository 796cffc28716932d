-- Takes over LBS entries pending in the group whose streams no live session owns: the streams of a lapsed or
-- departed session (a whole session's set, in chunks), entries left pending for the caller's own consumer id by an
-- earlier process or a failed call, and (startup recovery) entries idle for long. Entries of streams owned by a
-- live session are never taken; a pending entry of a stream that a live session now owns under another entry was
-- superseded and is acknowledged and deleted.
--
-- Ownership is the record alone: a taken entry stays pending for the consumer it was pending for, and the caller
-- moves it to itself afterwards, off the takeover's critical path (adopt.lua). Until then the entry is reported in
-- `own` to the caller whenever a call meets it, so that a reply lost on the way is noticed (the caller takes back
-- what it does not hold).
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
-- ARGV[10] "1" to list every entry whose stream the caller's own session owns under that entry (the caller takes
--          back those it does not hold locally, after a lost reply), "0" to list only those of them still pending
--          for another consumer (not adopted yet)
--
-- Returns {NOT_LIVE} when the caller's session is not live, else
-- {taken, malformed, last id examined, entries examined, own, first token}: taken is flat, per stream: stream,
-- lbsId, its lbs-input ("" for the usual one with an empty Info), n, n checkpoint items; the k-th stream taken
-- (from 0) has the token first token + k;
-- malformed a list of {lbsId, entry fields} for the caller to dead-letter; own a list of {stream, lbsId} (ARGV[10]).
-- Entries that no longer exist are acknowledged.
--
-- The cost per stream taken is what a takeover's latency is made of (docs/PERFORMANCE.md, handoff): the records
-- of a page are read with one HMGET and written with one HSET (per 1,000 streams), and nothing is XCLAIMed here.
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

-- Lua's unpack fails beyond about 8,000 values (LUAI_MAXCSTACK), and a page may hold up to 10,000 streams: commands
-- with one argument per stream go in slices of this many (an even number, for field-value pairs)
local SLICE = 1000

-- redis.call(command, key, items...) in slices of SLICE items; the replies of a reading command are concatenated
local function call_sliced(command, key, items)
  local replies = {}
  for from = 1, #items, SLICE do
    local reply = redis.call(command, key, unpack(items, from, math.min(#items, from + SLICE - 1)))
    if type(reply) == 'table' then
      for _, value in ipairs(reply) do replies[#replies + 1] = value end
    end
  end
  return replies
end

-- whether LBS entry id a is newer than b
local function newer(a, b)
  local da, db = string.find(a, '-', 1, true), string.find(b, '-', 1, true)
  local ma, mb = tonumber(string.sub(a, 1, da - 1)), tonumber(string.sub(b, 1, db - 1))
  if ma ~= mb then return ma > mb end
  return tonumber(string.sub(a, da + 1)) > tonumber(string.sub(b, db + 1))
end

-- the lbs-input of an entry, and the stream name at its start when it is written as producers write it (plain,
-- no escapes), else nil; the name is only a candidate until the entry is validated (stream_of) or found acquired
local function input_of(fields)
  for f = 1, #fields, 2 do
    if fields[f] == 'lbs-input' then
      local input = fields[f + 1]
      return input, string.match(input, '^{"DataStreamName":"([^"\\]+)"')
    end
  end
  return nil, nil
end

-- the data stream an lbs-input (input_of) announces, or nil when there is none or it is malformed
local function stream_of(input)
  if not input then return nil end
  local ok, decoded = pcall(cjson.decode, input)
  if ok and type(decoded) == 'table' and type(decoded['DataStreamName']) == 'string'
      and decoded['DataStreamName'] ~= '' then
    return decoded['DataStreamName']
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
local last = after
local examined = 0
local anyReleased = redis.call('HLEN', released) > 0
local entries = {}
local names, inputs = {}, {}
if #rows > 0 then
  -- the entries of the page in one range read (the LBS holds only unfinished entries, so the range is mostly them)
  for _, entry in ipairs(redis.call('XRANGE', lbs, rows[1][1], rows[#rows][1])) do
    entries[entry[1]] = entry[2]
  end
  -- the records of the page's streams in one read; a record this call writes is kept in `records` instead. The
  -- name is read off the start of lbs-input; only an entry that no record names under that name is decoded (an
  -- entry some acquisition took was validated then, and its record is filed under its name)
  local streams = {}
  for i, row in ipairs(rows) do
    local fields = entries[row[1]]
    local input, candidate = nil, nil
    if fields then input, candidate = input_of(fields) end
    names[i] = candidate or false
    inputs[i] = input
    if candidate then streams[#streams + 1] = candidate end
  end
  local found = call_sliced('HMGET', owners, streams)
  local records = {}
  for i, stream in ipairs(streams) do
    if records[stream] == nil then records[stream] = found[i] or false end
  end
  for i, row in ipairs(rows) do
    local id = row[1]
    local fields = entries[id]
    local candidate = names[i]
    local record = candidate and records[candidate]
    -- whether the record ends in ":<this entry id>"
    local acquired = record and string.byte(record, #record - #id) == 58
        and string.find(record, id, #record - #id + 1, true) ~= nil
    if fields and not acquired then
      local stream = stream_of(inputs[i])
      names[i] = stream or false
      if stream and records[stream] == nil then
        records[stream] = redis.call('HGET', owners, stream) or false
      end
    end
  end
  local written, unreleased = {}, {}
  local count, size = 0, 0
  for i, row in ipairs(rows) do
    if count >= room then break end
    local id = row[1]
    last = id
    examined = examined + 1
    local fields = entries[id]
    local stream = names[i]
    if not fields then
      redis.call('XACK', lbs, group, id)
    elseif not stream then
      malformed[#malformed + 1] = {id, fields}
    else
      local record = records[stream]
      local take = true
      if record then
        local a = string.find(record, ':', 1, true)
        local b = string.find(record, ':', a + 1, true)
        local holderSid = string.sub(record, a + 1, b - 1)
        local holderId = (#record - b == #id and string.find(record, id, b + 1, true)) and id or string.sub(record, b + 1)
        if live(holderSid) then
          take = false
          -- the caller's own stream: reported when asked, or while its entry is still pending for another consumer
          -- (taken over and not adopted yet; the caller may have lost the reply that took it)
          if holderSid == sid and holderId == id and (reportOwn or row[2] ~= consumer) then
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
        local value = token .. ':' .. sid .. ':' .. id
        records[stream] = value
        written[#written + 1] = stream
        written[#written + 1] = value
        if anyReleased then unreleased[#unreleased + 1] = stream end
        local checkpointKey = checkpointPrefix .. stream
        local checkpoint = redis.call('HGETALL', checkpointKey)
        if not record and #checkpoint > 0 then
          -- a checkpoint kept from an earlier run carries the retention TTL: the stream is live again (while a
          -- record exists the checkpoint has none: every acquisition PERSISTs it, only finish.lua sets one)
          redis.call('PERSIST', checkpointKey)
        end
        -- the usual lbs-input, {"DataStreamName":"<stream>","Info":{}}, goes back as "" (an empty Info)
        local input = inputs[i]
        if #input == #stream + 31 and string.find(input, ',"Info":{}}', #input - 10, true)
            and string.byte(input, 20 + #stream) == 34 and string.sub(input, 20, 19 + #stream) == stream then
          input = ''
        end
        -- flat (nested tables cost more to reply than their items): stream, id, lbs-input, n, n checkpoint items
        taken[size + 1] = stream
        taken[size + 2] = id
        taken[size + 3] = input
        taken[size + 4] = #checkpoint
        for c = 1, #checkpoint do taken[size + 4 + c] = checkpoint[c] end
        size = size + 4 + #checkpoint
        count = count + 1
      end
    end
  end
  call_sliced('HSET', owners, written)
  call_sliced('HDEL', released, unreleased)
end
if issued > 0 then
  redis.call('SET', fencing, string.format('%.0f', firstToken + issued - 1))
end
return {taken, malformed, last, examined, own, string.format('%.0f', firstToken)}
