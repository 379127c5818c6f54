-- Settles one issue request after the database had its say (SPEC §7.3-7.4), once: the XACK decides
-- which of several consumers that processed the same request (a reclaim race) settles it.
-- KEYS[1] coupon:{id}:remaining, KEYS[2] coupon:{id}:users, KEYS[3] coupon:{id}:issue-requests,
-- KEYS[4] coupon:{id}:attempts, KEYS[5] coupon:{id}:dead-letters
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] userId,
-- ARGV[4] ISSUED | CANCELLED (sold out in the database: no restock) | COMPENSATED (gave up: restock,
--         dead letter), ARGV[5] couponId, ARGV[6] requestedAt, ARGV[7] reason (dead letters)
-- Returns 1 when settled now, 0 when it had been settled before (or Redis lost the stream).
if redis.call('XACK', KEYS[3], ARGV[1], ARGV[2]) == 0 then
    return 0
end
redis.call('XDEL', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
if ARGV[4] == 'ISSUED' then
    redis.call('HSET', KEYS[2], ARGV[3], 'ISSUED')
    return 1
end
if redis.call('HGET', KEYS[2], ARGV[3]) == 'RESERVED' then
    redis.call('HSET', KEYS[2], ARGV[3], 'FAILED')
    if ARGV[4] == 'COMPENSATED' then
        redis.call('INCR', KEYS[1])
    end
end
if ARGV[4] == 'COMPENSATED' then
    redis.call('XADD', KEYS[5], '*', 'couponId', ARGV[5], 'userId', ARGV[3], 'requestedAt', ARGV[6],
        'entryId', ARGV[2], 'reason', ARGV[7])
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > 0 then
        redis.call('PEXPIRE', KEYS[5], ttl)
    end
end
return 1
