-- wrk script: POST /api/users/{id}/balance/charge {"amount":1,"idempotencyKey":"<unique>"}.
-- Every request carries a unique idempotency key (<run prefix>-<thread>-<counter>), so none is
-- an idempotent replay; user ids are spread uniformly over the load-test users 1000..10999.
-- Status codes are counted in response() and printed by done() as one line:
--   bench-status ok=<2xx> bad=<other> sample=<first non-2xx status and body, if any>
--   wrk ... -s bench/lua/charge.lua URL -- <run prefix> [first_id] [last_id]

local threads = {}
local counter = 0

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

local prefix, first_id, last_id
local seq = 0
local headers = { ["Content-Type"] = "application/json" }
ok, bad, sample = 0, 0, ""

function init(args)
    prefix = args[1] or tostring(os.time())
    first_id = tonumber(args[2]) or 1000
    last_id = tonumber(args[3]) or 10999
    math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end

function request()
    seq = seq + 1
    local body = '{"amount":1,"idempotencyKey":"' .. prefix .. "-" .. tid .. "-" .. seq .. '"}'
    return wrk.format("POST", "/api/users/" .. math.random(first_id, last_id) .. "/balance/charge", headers, body)
end

function response(status, hdrs, body)
    if status >= 200 and status < 300 then
        ok = ok + 1
    else
        bad = bad + 1
        if sample == "" then
            sample = status .. " " .. string.sub(string.gsub(body or "", "%s+", " "), 1, 200)
        end
    end
end

function done(summary, latency, requests)
    local total_ok, total_bad, first = 0, 0, ""
    for _, t in ipairs(threads) do
        total_ok = total_ok + (t:get("ok") or 0)
        total_bad = total_bad + (t:get("bad") or 0)
        local s = t:get("sample") or ""
        if first == "" then first = s end
    end
    io.write(string.format("bench-status ok=%d bad=%d sample=%s\n", total_ok, total_bad, first))
end
