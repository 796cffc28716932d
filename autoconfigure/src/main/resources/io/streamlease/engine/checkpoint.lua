-- Writes a data stream's checkpoint (position + small user state), only if the caller holds the lease (fenced).
-- The user state replaces the previous one. The handler attempt count is kept while the position stays the
-- same, and cleared when the position moves (progress was made since the failures were counted).
--
-- KEYS[1]  lease key                      {<service>-input}:lease:<stream>
-- KEYS[2]  checkpoint key (hash)          {<service>-input}:checkpoint:<stream>
-- ARGV[1]  expected lease value "<token>:<instance nonce>:<consumer>"
-- ARGV[2]  position (last processed data stream entry id, may be "")
-- ARGV[3]  fencing token
-- ARGV[4+2k], ARGV[5+2k]                  user state key, value (stored as field "state:<key>")
--
-- Returns {OK} or {NOT_OWNER, current holder or ""}.
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then
  return {'NOT_OWNER', holder or ''}
end
local attempts = redis.call('HGET', KEYS[2], 'attempts')
if (redis.call('HGET', KEYS[2], 'position') or '') ~= ARGV[2] then
  attempts = nil
end
redis.call('DEL', KEYS[2])
local fields = {'position', ARGV[2], 'token', ARGV[3]}
if attempts then
  fields[#fields + 1] = 'attempts'
  fields[#fields + 1] = attempts
end
for k = 4, #ARGV, 2 do
  fields[#fields + 1] = 'state:' .. ARGV[k]
  fields[#fields + 1] = ARGV[k + 1]
end
redis.call('HSET', KEYS[2], unpack(fields))
return {'OK'}
