-- Counts one more handler attempt for a data stream, only if the caller holds the lease (fenced). The count
-- lives in the checkpoint hash so that it survives a failover.
--
-- KEYS[1]  lease key                      {<service>-input}:lease:<stream>
-- KEYS[2]  checkpoint key (hash)          {<service>-input}:checkpoint:<stream>
-- ARGV[1]  expected lease value "<token>:<instance nonce>:<consumer>"
--
-- Returns {OK, attempts} or {NOT_OWNER, current holder or ""}.
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then
  return {'NOT_OWNER', holder or ''}
end
return {'OK', tostring(redis.call('HINCRBY', KEYS[2], 'attempts', 1))}
