-- Counts one failed attempt at an issue request (the database answered with an error; an outage
-- does not count) and returns the count. The counter expires with the coupon's gate.
-- KEYS[1] coupon:{id}:attempts, KEYS[2] coupon:{id}:remaining; ARGV[1] entry id
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
    redis.call('PEXPIRE', KEYS[1], ttl)
end
return n
