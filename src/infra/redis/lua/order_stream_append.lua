-- Appends one paid order to the order-completed stream, at most once per outbox event (SPEC §6).
-- KEYS[1] the stream           order-completed
-- KEYS[2] applied events       {order-completed}:applied:yyyyMMdd  (hash tag = the stream's slot)
-- ARGV[1] event id, ARGV[2] TTL in seconds of KEYS[2], ARGV[3] approximate MAXLEN of the stream,
-- ARGV[4..] field, value, field, value, ...
-- Returns 1 when appended now, 0 when that event was appended before.
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
    return 0
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
local args = {'XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*'}
for i = 4, #ARGV do
    args[#args + 1] = ARGV[i]
end
redis.call(unpack(args))
return 1
