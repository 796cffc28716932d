-- Finishes one data stream (done): releases the lease, removes it from the index, acknowledges and deletes
-- its LBS entry, in one step and only if the caller still holds the lease (fenced).
--
-- KEYS[1]  LBS stream                     <service>-input
-- KEYS[2]  lease index (zset)             {<service>-input}:leases
-- KEYS[3]  assignments (hash)             {<service>-input}:assignments
-- KEYS[4]  resubmissions (hash)           {<service>-input}:resubmits
-- KEYS[5]  lease key                      {<service>-input}:lease:<stream>
-- KEYS[6]  checkpoint key                 {<service>-input}:checkpoint:<stream>
-- ARGV[1]  group
-- ARGV[2]  stream name
-- ARGV[3]  expected lease value "<token>:<instance nonce>:<consumer>"
-- ARGV[4]  LBS entry id
-- ARGV[5]  checkpoint retention in ms after the stream is finished (0 deletes the checkpoint)
--
-- Returns {DONE}, {RESUBMITTED, new LBS entry id} when a duplicate arrived while the stream was held
-- (one more run starts from the kept checkpoint), {FINISHED} when the lease is gone because the entry was
-- already finished (a call repeated after a lost reply), or {NOT_OWNER, current holder or ""}.
local lbs, index, assignments, resubmits, leaseKey, checkpointKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local group, stream, expected, lbsId, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])

local holder = redis.call('GET', leaseKey)
if holder ~= expected then
  if not holder and not redis.call('XPENDING', lbs, group, lbsId, lbsId, 1)[1]
      and redis.call('HGET', assignments, stream) ~= lbsId then
    return {'FINISHED'}
  end
  return {'NOT_OWNER', holder or ''}
end
redis.call('DEL', leaseKey)
redis.call('ZREM', index, stream)
redis.call('HDEL', assignments, stream)
redis.call('XACK', lbs, group, lbsId)
redis.call('XDEL', lbs, lbsId)
local again = redis.call('HGET', resubmits, stream)
if again then
  redis.call('HDEL', resubmits, stream)
  redis.call('HDEL', checkpointKey, 'attempts')
  local id = redis.call('XADD', lbs, '*', 'lbs-input', again)
  return {'RESUBMITTED', id}
end
if retention > 0 then
  redis.call('PEXPIRE', checkpointKey, retention)
else
  redis.call('DEL', checkpointKey)
end
return {'DONE'}
