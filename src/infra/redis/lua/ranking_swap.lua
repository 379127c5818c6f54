-- Installs a rebuilt day atomically: the staged sorted set and applied-event set replace the live
-- ones (or, when the day had no sales, the live ones are removed).
-- KEYS[1] live sorted set, KEYS[2] live applied set, KEYS[3] staged sorted set, KEYS[4] staged
-- applied set (all four share the day's hash tag). ARGV[1] TTL in seconds.
redis.call('DEL', KEYS[1], KEYS[2])
if redis.call('EXISTS', KEYS[3]) == 1 then
    redis.call('RENAME', KEYS[3], KEYS[1])
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
if redis.call('EXISTS', KEYS[4]) == 1 then
    redis.call('RENAME', KEYS[4], KEYS[2])
    redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return 1
