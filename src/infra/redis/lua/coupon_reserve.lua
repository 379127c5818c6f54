-- One FCFS reservation, decided and queued atomically (SPEC §7.2). All keys carry the coupon's hash
-- tag {couponId}, so the script touches one cluster slot.
-- KEYS[1] coupon:{id}:remaining       units left to reserve (absent: the gate is not initialised)
-- KEYS[2] coupon:{id}:users           HASH userId -> RESERVED | ISSUED | FAILED
-- KEYS[3] coupon:{id}:issue-requests  STREAM of issue requests (consumer group coupon-issuers)
-- ARGV[1] userId, ARGV[2] couponId, ARGV[3] requestedAt (epoch ms)
-- Returns {0, remainingAfter, entryId} reserved; {1} already reserved; {2} already issued;
--         {3} sold out; {4} gate not initialised.
local remaining = redis.call('GET', KEYS[1])
if not remaining then
    return {4}
end
local state = redis.call('HGET', KEYS[2], ARGV[1])
if state == 'RESERVED' then
    return {1}
end
if state == 'ISSUED' then
    return {2}
end
if tonumber(remaining) <= 0 then
    return {3}
end
local after = redis.call('DECR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], 'RESERVED')
local id = redis.call('XADD', KEYS[3], '*', 'couponId', ARGV[2], 'userId', ARGV[1], 'requestedAt', ARGV[3])
return {0, after, id}
