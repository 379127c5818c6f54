-- wrk script: GET /api/users/{id}/balance with the user id spread uniformly over the load-test
-- users 1000..10999 (seeded by profile `test`).
-- The requests are formatted once in init() and picked at random per request: formatting each
-- request in Lua would cost wrk about as much CPU as the server spends on it, CPU that the
-- server on the same (small) machine would then not have.
-- Status codes are counted by wrk itself ("Non-2xx or 3xx responses"); there is no response()
-- callback, for the same reason.
--   wrk ... -s bench/lua/balance.lua URL -- [first_id] [last_id]

local counter = 0

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
end

local requests = {}
local n = 0

function init(args)
    local first_id = tonumber(args[1]) or 1000
    local last_id = tonumber(args[2]) or 10999
    for id = first_id, last_id do
        n = n + 1
        requests[n] = wrk.format("GET", "/api/users/" .. id .. "/balance")
    end
    math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end

function request()
    return requests[math.random(n)]
end
