-- A coupon's stream answered NOGROUP: its group (or the stream) is gone while the gate may still be
-- there (deleted by hand, or evicted under a volatile-* maxmemory policy). Recreates the group from
-- the start of the stream when the gate exists, so queued requests are not stranded.
-- KEYS[1] coupon:{id}:remaining, KEYS[2] coupon:{id}:issue-requests; ARGV[1] consumer group
-- Returns 1 when the coupon is still active, 0 when its gate is gone too (forget the coupon).
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
    return 0
end
pcall(redis.call, 'XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')  -- BUSYGROUP when it exists
if ttl > 0 then
    redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
