-- One product's place in the day: {score, members with a higher score, members tied with it}, or {}
-- when it has no score. KEYS[1] day sorted set, ARGV[1] productId.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then
    return {}
end
local above = redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf')
return {score, above, redis.call('ZRANGEBYSCORE', KEYS[1], score, score)}
