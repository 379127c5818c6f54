-- Adds one paid order to its day's ranking, at most once per outbox event (SPEC §6).
-- KEYS[1] day sorted set   ranking:product:orders:daily:{yyyyMMdd}
-- KEYS[2] applied events   ranking:product:orders:applied:{yyyyMMdd}  (same hash tag: same slot)
-- ARGV[1] event id, ARGV[2] TTL in seconds, ARGV[3..] productId, units, productId, units, ...
-- Returns 1 when applied now, 0 when the event had been applied before (a relay retry).
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
    return 0
end
for i = 3, #ARGV, 2 do
    redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
