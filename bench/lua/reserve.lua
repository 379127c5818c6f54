-- wrk script: FCFS coupon reservation, POST /api/coupons/{couponId}/reserve {"userId":U}, a user
-- never used before on that coupon for every request (each user may reserve a coupon only once).
-- Users: thread t of T takes first_id + t, first_id + t + T, first_id + t + 2T, ... up to last_id.
-- A thread that runs out of users starts over at its first user (those requests are answered
-- 400 C004 and counted as errors) and reports how many requests it sent that way ("exhausted").
-- The request head is formatted once per body length; request() only appends the body.
-- Status codes are counted in response(); done() prints:
--   bench-status ok=<200> bad=<other> sample=<first non-200 status and body, if any>
--   bench-reserve sent=<requests sent> ok=<200> s400=.. s404=.. s409=.. s503=.. s5xx=<other 5xx>
--       other=<any other status> exhausted=<requests sent after the thread ran out of users>
--       unparsed=<200s without a userId> seconds=<run time>
--   bench-reserve-inflight <user ids whose request was sent but not answered when wrk stopped>
-- The in-flight users let the caller reconcile wrk's count of 200s with what the server reserved:
-- wrk stops with a request in flight on (nearly) every connection, and the server may have
-- reserved some of those without wrk seeing the answer.
--   wrk ... -s bench/lua/reserve.lua URL -- <couponId> <first_id> <last_id> <threads>

local threads = {}
local counter = 0

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

local path, first_id, last_id, nthreads
local k = 0 -- this thread's next user is first_id + tid + nthreads * k
local heads = {} -- body length -> formatted request head (request line + headers, no body)
local headers = { ["Content-Type"] = "application/json" }
sent, ok, s400, s404, s409, s503, s5xx, other, exhausted, unparsed, sample = 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ""
inflight = {} -- user id -> true while its request is unanswered

function init(args)
    path = "/api/coupons/" .. assert(tonumber(args[1]), "couponId") .. "/reserve"
    first_id = tonumber(args[2]) or 2000000
    last_id = tonumber(args[3]) or 2999999
    nthreads = tonumber(args[4]) or 1
end

function request()
    local user = first_id + tid + nthreads * k
    k = k + 1
    if user > last_id then
        exhausted = exhausted + 1
        user = first_id + tid
        k = 1
    end
    sent = sent + 1
    inflight[user] = true
    local body = '{"userId":' .. user .. '}'
    local head = heads[#body]
    if not head then
        local full = wrk.format("POST", path, headers, body)
        head = string.sub(full, 1, #full - #body)
        heads[#body] = head
    end
    return head .. body
end

function response(status, hdrs, body)
    if status == 200 then
        ok = ok + 1
        local user = body and string.match(body, '"userId"%s*:%s*(%d+)')
        if user then inflight[tonumber(user)] = nil else unparsed = unparsed + 1 end
        return
    end
    if status == 400 then s400 = s400 + 1
    elseif status == 404 then s404 = s404 + 1
    elseif status == 409 then s409 = s409 + 1
    elseif status == 503 then s503 = s503 + 1
    elseif status >= 500 then s5xx = s5xx + 1
    else other = other + 1 end
    -- C004 and U001 name the user ("userId: N"): it is answered, not in flight
    local user = body and string.match(body, 'userId: (%d+)')
    if user then inflight[tonumber(user)] = nil end
    if sample == "" then
        sample = status .. " " .. string.sub(string.gsub(body or "", "%s+", " "), 1, 200)
    end
end

function done(summary, latency, requests)
    local v = { sent = 0, ok = 0, s400 = 0, s404 = 0, s409 = 0, s503 = 0, s5xx = 0, other = 0, exhausted = 0,
        unparsed = 0 }
    local names = { "sent", "ok", "s400", "s404", "s409", "s503", "s5xx", "other", "exhausted", "unparsed" }
    local first, users = "", {}
    for _, t in ipairs(threads) do
        for _, name in ipairs(names) do v[name] = v[name] + (t:get(name) or 0) end
        local s = t:get("sample") or ""
        if first == "" then first = s end
        for user, _ in pairs(t:get("inflight") or {}) do table.insert(users, string.format("%d", user)) end
    end
    local bad = v.s400 + v.s404 + v.s409 + v.s503 + v.s5xx + v.other
    io.write(string.format("bench-status ok=%d bad=%d sample=%s\n", v.ok, bad, first))
    io.write(string.format("bench-reserve sent=%d ok=%d s400=%d s404=%d s409=%d s503=%d s5xx=%d other=%d "
        .. "exhausted=%d unparsed=%d seconds=%.3f\n", v.sent, v.ok, v.s400, v.s404, v.s409, v.s503, v.s5xx,
        v.other, v.exhausted, v.unparsed, summary.duration / 1e6))
    io.write("bench-reserve-inflight " .. table.concat(users, " ") .. "\n")
end
