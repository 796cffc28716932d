-- Lists pending LBS entries with their fields, for startup recovery and for the sweep of consumers that are gone.
--
-- KEYS[1]  LBS stream                     <service>-input
-- ARGV[1]  group
-- ARGV[2]  consumer whose entries to list ("" for every consumer)
-- ARGV[3]  minimum idle time in ms (0 for any)
-- ARGV[4]  exclusive lower bound of entry ids ("-" to start at the beginning)
-- ARGV[5]  maximum number of entries
--
-- Returns a flat list {id, consumer, fields or empty list (the entry was deleted), ...}.
local lbs, group, consumer, idle, after, count = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local start = after
if after ~= '-' then start = '(' .. after end
local args = {'XPENDING', lbs, group}
if tonumber(idle) > 0 then
  args[#args + 1] = 'IDLE'
  args[#args + 1] = idle
end
args[#args + 1] = start
args[#args + 1] = '+'
args[#args + 1] = count
if consumer ~= '' then args[#args + 1] = consumer end
local rows = redis.call(unpack(args))
local result = {}
for _, row in ipairs(rows) do
  local found = redis.call('XRANGE', lbs, row[1], row[1])
  result[#result + 1] = row[1]
  result[#result + 1] = row[2]
  if found[1] then result[#result + 1] = found[1][2] else result[#result + 1] = {} end
end
return result
