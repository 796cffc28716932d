-- Compare-token write: the fencing pattern for data that a stream's owner writes outside Stream Lease's own keys.
--
-- A lease can be lost while its holder still runs (a long GC pause, a network partition): the engine then gives
-- the stream to another consumer with a greater fencing token, and the old holder may wake up and write. To refuse
-- such a stale writer, every write carries the writer's fencing token, the stored data keeps the token of its last
-- writer, and the comparison and the write happen in one script, so nothing can come between them.
--
-- KEYS[1]   the hash to write (summary:<stream>)
-- KEYS[2]   optional, only with sample.audit.enabled: the audit stream. Every attempt is then appended to it in this
--           same script, accepted or rejected: the summary fields, then kind=summary, key=KEYS[1],
--           result=accepted|rejected, token=ARGV[1], stored=<the token found, or empty>. Tests only: in a Redis
--           Cluster KEYS[1] and KEYS[2] are in different hash slots and the script fails with CROSSSLOT.
-- ARGV[1]   the writer's fencing token (LeasedStream.fencingToken()), a decimal integer
-- ARGV[2..] field, value, field, value, ... to set
--
-- Writes when the hash has no fencingToken field yet or its token is less than or equal to ARGV[1] (equal: the
-- same owner writing again, for example when its handler is retried). Refuses when the stored token is greater:
-- a newer owner already wrote. Returns {1, ARGV[1]} when written, {0, stored token} when refused; an error when
-- the stored token is not a number.

local function audit(result, stored)
  if KEYS[2] then
    local record = {}
    for i = 2, #ARGV do
      record[#record + 1] = ARGV[i]
    end
    -- the audit's own fields last, so that they win over a summary field of the same name
    for _, value in ipairs({'kind', 'summary', 'key', KEYS[1], 'result', result, 'token', ARGV[1], 'stored', stored or ''}) do
      record[#record + 1] = value
    end
    redis.call('XADD', KEYS[2], '*', unpack(record))
  end
end

local token = tonumber(ARGV[1])
if token == nil then
  return redis.error_reply('ERR fencing token is not a number: ' .. tostring(ARGV[1]))
end
local current = redis.call('HGET', KEYS[1], 'fencingToken')
if current then
  local stored = tonumber(current)
  if stored == nil then
    -- never overwrite what cannot be compared
    return redis.error_reply('ERR ' .. KEYS[1] .. ' holds a fencingToken that is not a number: ' .. current)
  end
  if token < stored then
    audit('rejected', current)
    return {0, current}
  end
end
redis.call('HSET', KEYS[1], 'fencingToken', ARGV[1], unpack(ARGV, 2))
audit('accepted', current)
return {1, ARGV[1]}
