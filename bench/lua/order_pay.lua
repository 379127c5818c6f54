-- wrk script: order creation + payment, the buying path of the shop.
--   1. POST /api/orders {"userId":U,"items":[{"productId":P,"quantity":1}],"idempotencyKey":"<unique>"}
--   2. on its 201, POST /api/orders/{orderId}/payment {"userId":U,"idempotencyKey":"<unique>"}
-- wrk's Lua state is per thread, not per connection, and request() is not told which connection it
-- serves: a created order's payment is queued by response() and sent by the thread's next
-- request() (on whichever of its connections is free); with nothing queued, request() creates a
-- new order. Every connection thus keeps exactly one request in flight and every created order is
-- paid right after (except those created in the last moments of the run).
-- Users go round-robin over [first_id, last_id] (thread t takes t, t+T, t+2T, ... for T threads),
-- so concurrent requests belong to distinct users; every idempotency key is unique
-- (<run prefix>-o|p-<thread>-<counter>), so nothing is an idempotent replay.
-- Counted in response(), printed by done():
--   bench-status ok=<2xx> bad=<other> sample=<first non-2xx status and body, if any>
--   bench-orderpay created=<201 orders> paid=<200 payments> seconds=<run time> paid_per_s=<paid / seconds>
--   wrk ... -s bench/lua/order_pay.lua URL -- <run prefix> <first product id> [first_id] [last_id] [threads]
--       [products]   (orders go round-robin over products first product id .. + products - 1)

local threads = {}
local counter = 0

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

local prefix, product_id, first_id, users, nthreads, products
local round = 0 -- this thread's next user is first_id + (tid + nthreads * round) % users
local seq = 0
local queue, head, tail = {}, 1, 0 -- payments to send: { order id, user id }
local headers = { ["Content-Type"] = "application/json" }
ok, bad, sample, created, paid = 0, 0, "", 0, 0

function init(args)
    prefix = args[1] or tostring(os.time())
    product_id = tonumber(args[2]) or 1
    first_id = tonumber(args[3]) or 300000
    users = (tonumber(args[4]) or 309999) - first_id + 1
    nthreads = tonumber(args[5]) or 1
    products = tonumber(args[6]) or 1
end

function request()
    seq = seq + 1
    if head <= tail then
        local p = queue[head]
        queue[head] = nil
        head = head + 1
        local body = '{"userId":' .. p[2] .. ',"idempotencyKey":"' .. prefix .. "-p-" .. tid .. "-" .. seq .. '"}'
        return wrk.format("POST", "/api/orders/" .. p[1] .. "/payment", headers, body)
    end
    local user = first_id + (tid + nthreads * round) % users
    round = round + 1
    local product = product_id + (tid + nthreads * round) % products
    local body = '{"userId":' .. user .. ',"items":[{"productId":' .. product .. ',"quantity":1}],'
        .. '"idempotencyKey":"' .. prefix .. "-o-" .. tid .. "-" .. seq .. '"}'
    return wrk.format("POST", "/api/orders", headers, body)
end

function response(status, hdrs, body)
    if status == 201 then
        local order = body and string.match(body, '"orderId"%s*:%s*(%d+)')
        local user = body and string.match(body, '"userId"%s*:%s*(%d+)')
        if order and user then
            ok = ok + 1
            created = created + 1
            tail = tail + 1
            queue[tail] = { order, user }
            return
        end
    elseif status == 200 then
        ok = ok + 1
        if body and string.find(body, '"paidAmount"', 1, true) then paid = paid + 1 end
        return
    elseif status >= 200 and status < 300 then
        ok = ok + 1
        return
    end
    -- non-2xx, or a 201 without orderId/userId (its payment cannot be sent)
    bad = bad + 1
    if sample == "" then
        sample = status .. " " .. string.sub(string.gsub(body or "", "%s+", " "), 1, 200)
    end
end

function done(summary, latency, requests)
    local total_ok, total_bad, total_created, total_paid, first = 0, 0, 0, 0, ""
    for _, t in ipairs(threads) do
        total_ok = total_ok + (t:get("ok") or 0)
        total_bad = total_bad + (t:get("bad") or 0)
        total_created = total_created + (t:get("created") or 0)
        total_paid = total_paid + (t:get("paid") or 0)
        local s = t:get("sample") or ""
        if first == "" then first = s end
    end
    local seconds = summary.duration / 1e6
    io.write(string.format("bench-status ok=%d bad=%d sample=%s\n", total_ok, total_bad, first))
    io.write(string.format("bench-orderpay created=%d paid=%d seconds=%.3f paid_per_s=%.2f\n", total_created,
        total_paid, seconds, seconds > 0 and total_paid / seconds or 0))
end
