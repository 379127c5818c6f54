-- Initialises a coupon's reservation gate from the database (SPEC §7.5), unless it exists.
-- KEYS[1] coupon:{id}:remaining, KEYS[2] coupon:{id}:users, KEYS[3] coupon:{id}:issue-requests
-- ARGV[1] remaining = total - issued, ARGV[2] expire-at (epoch ms), ARGV[3] consumer group,
-- ARGV[4..] ids of the users already holding the coupon
-- Returns 1 when initialised now, 0 when the gate was there already.
if redis.call('EXISTS', KEYS[1]) == 1 then
    return 0
end
redis.call('SET', KEYS[1], ARGV[1])
for i = 4, #ARGV do
    redis.call('HSET', KEYS[2], ARGV[i], 'ISSUED')
end
if redis.call('EXISTS', KEYS[3]) == 0 then
    redis.call('XGROUP', 'CREATE', KEYS[3], ARGV[3], '0', 'MKSTREAM')
else
    pcall(redis.call, 'XGROUP', 'CREATE', KEYS[3], ARGV[3], '0')  -- BUSYGROUP when it exists
end
for i = 1, 3 do
    redis.call('PEXPIREAT', KEYS[i], ARGV[2])
end
return 1
