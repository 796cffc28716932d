-- Moves to the caller the LBS entries of streams it took over (claim-pending.lua), which stay pending for their
-- earlier consumer until then: XCLAIM, JUSTID, of each entry whose stream the caller's live session still owns
-- under the given record. Ownership does not depend on it (the record is the ownership); it keeps the group's
-- pending entries where their owner is, so that a sweep does not take a departed consumer for one with streams
-- left to claim, and a restarted process finds its entries under its own id.
--
-- KEYS[1]  LBS stream                     <service>-input
-- KEYS[2]  owners (hash)                  {<service>-input}:owners            stream -> "<token>:<sid>:<LBS id>"
-- KEYS[3]  consumer registry (zset)       {<service>-input}:consumers
-- KEYS[4]  sessions (hash)                {<service>-input}:sessions
-- ARGV[1]  group
-- ARGV[2]  consumer id of the caller
-- ARGV[3]  session id of the caller
-- ARGV[4], ARGV[5] ...                    stream name, expected ownership record "<token>:<sid>:<LBS id>"
--
-- Returns the number of entries moved, or -1 when the caller's session is not live (nothing was changed).
local lbs, owners, consumers, sessions = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, consumer, sid = ARGV[1], ARGV[2], ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('HGET', sessions, consumer) ~= sid
    or tonumber(redis.call('ZSCORE', consumers, consumer) or '0') <= now then
  return -1
end
local streams = {}
for i = 4, #ARGV, 2 do streams[#streams + 1] = ARGV[i] end
if #streams == 0 then return 0 end
local records = redis.call('HMGET', owners, unpack(streams))
local ids = {}
for k = 1, #streams do
  local expected = ARGV[3 + 2 * k]
  if records[k] == expected then
    local b = string.find(expected, ':', string.find(expected, ':', 1, true) + 1, true)
    ids[#ids + 1] = string.sub(expected, b + 1)
  end
end
local moved = 0
for from = 1, #ids, 500 do
  local page = {}
  for k = from, math.min(#ids, from + 499) do page[#page + 1] = ids[k] end
  page[#page + 1] = 'JUSTID'
  moved = moved + #redis.call('XCLAIM', lbs, group, consumer, 0, unpack(page))
end
return moved
