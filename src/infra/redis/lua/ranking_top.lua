-- The day's top ARGV[1] with every member tied with the last one, so the caller can break ties by
-- the smaller productId (a sorted set orders equal scores by member *string*, "10" before "9").
-- KEYS[1] day sorted set. Returns {top, ties}: flat member/score arrays.
local top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
if #top == 0 then
    return {top, {}}
end
local last = top[#top]
return {top, redis.call('ZRANGEBYSCORE', KEYS[1], last, last, 'WITHSCORES')}
