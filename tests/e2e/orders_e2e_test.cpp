// Orders and payments (SPEC §4.2, §8; commerce contract "Orders") over real HTTP against the real
// binary: order creation (prices, merged lines, floored coupon discount, idempotent replay), the
// payment saga (balance, stock, coupon, status, outbox; byte-identical replay; the mock gateway's
// decline and its exact compensation), create-and-pay, the order list and detail, and every error
// with nothing written. Users 5400-5459 belong to this file; products and coupons are inserted here.
#include <functional>
#include <ostream>

#include "e2e/commerce_support.hpp"

namespace ec::e2e {
namespace {

class OrdersE2E : public ServerSuite<OrdersE2E> {};

const std::string kOrders = "/api/orders";
const std::string kComplete = "/api/orders/complete";

std::string orders_path(std::int64_t user, const std::string& status = {}) {
    return kOrders + "?userId=" + std::to_string(user) + (status.empty() ? "" : "&status=" + status);
}

// Creates an order; returns its id (0 after a failure is recorded).
std::int64_t create_order(HttpClient& client, std::int64_t user, const Lines& lines,
                          std::optional<std::int64_t> coupon = std::nullopt, const std::string& key = {}) {
    const auto r =
        client.post(kOrders, order_body(user, lines, coupon, key.empty() ? unique_key("ord") : key));
    if (r.status != 201) {
        ADD_FAILURE() << "order creation failed: " << r.status << " " << r.body;
        return 0;
    }
    return as_i64(r.json().at("orderId"));
}

void issue(HttpClient& client, std::int64_t coupon, std::int64_t user) {
    const auto r = client.post(issue_path(coupon), user_id_body(user));
    EXPECT_EQ(r.status, 200) << "coupon issue failed: " << r.body;
}

// Everything an order or payment request may write, for "nothing changed" checks.
struct Snapshot {
    std::int64_t balance = 0;
    std::int64_t orders = 0;
    std::int64_t order_items = 0;
    std::int64_t idempotency = 0;
    std::vector<std::int64_t> stocks;
    std::string coupon;  // status/used_order_id of the user's coupon
    std::string order;   // status/paid/payment_key/outbox rows of the order
    bool operator==(const Snapshot&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Snapshot& s) {
    os << "{balance " << s.balance << ", orders " << s.orders << ", order_items " << s.order_items
       << ", idempotency " << s.idempotency << ", stocks [";
    for (const auto st : s.stocks) os << st << " ";
    return os << "], coupon '" << s.coupon << "', order '" << s.order << "'}";
}

Snapshot snapshot(CommercePg& pg, std::int64_t user, const std::vector<std::int64_t>& products,
                  std::int64_t coupon = 0, std::int64_t order = 0) {
    Snapshot s;
    const std::string u = std::to_string(user);
    s.balance = pg.balance(user);
    s.orders = pg.order_rows(user);
    s.order_items = pg.int64(
        "SELECT count(*) FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE o.user_id = $1", {u});
    s.idempotency = pg.idempotency_rows(user);
    for (const auto p : products) s.stocks.push_back(pg.stock(p));
    if (coupon != 0) {
        s.coupon = pg.exec(
            "SELECT status || '/' || coalesce(used_order_id::text, '-') || '/' || (used_at IS NOT "
            "NULL)::text "
            "FROM user_coupons WHERE user_id = $1 AND coupon_id = $2",
            {u, std::to_string(coupon)});
    }
    if (order != 0) {
        s.order =
            pg.exec(
                "SELECT status || '/' || (paid_at IS NOT NULL)::text || '/' || coalesce(payment_key, '-') "
                "FROM orders WHERE id = $1",
                {std::to_string(order)}) +
            "/outbox=" + std::to_string(pg.outbox_rows(order));
    }
    return s;
}

struct Case {
    std::string name;
    // Sends the request; `key` is a fresh idempotency key for this case.
    std::function<HttpResponse(HttpClient&, const std::string& key)> send;
    int status;
    std::string code;
    std::string message_contains;  // "" = any message
};

// Runs every case, checking its error and that `state()` did not change and no idempotency record
// exists under the case's key for `user`.
void run_cases(int port, const std::vector<Case>& cases, CommercePg& pg, std::int64_t user,
               const std::function<Snapshot()>& state) {
    const Snapshot before = state();
    for (const auto& c : cases) {
        SCOPED_TRACE("case: " + c.name);
        const std::string key = unique_key("case");
        HttpClient client(port);
        HttpResponse r;
        try {
            r = c.send(client, key);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "request failed: " << e.what();
            continue;
        }
        expect_error(r, c.status, c.code);
        if (!c.message_contains.empty()) {
            EXPECT_NE(error_message(r).find(c.message_contains), std::string::npos)
                << "message should name '" << c.message_contains << "': " << r.body;
        }
        EXPECT_EQ(state(), before) << "something was written";
        EXPECT_EQ(pg.idempotency_rows(user, key), 0);
        EXPECT_EQ(pg.int64("SELECT count(*) FROM idempotency_records WHERE idempotency_key = $1", {key}), 0);
        EXPECT_EQ(pg.idempotency_rows(kUnknownId), 0);
        EXPECT_EQ(pg.order_rows(kUnknownId), 0);
    }
}

// ================================================================================================
// POST /api/orders

TEST_F(OrdersE2E, CreateReturnsThePendingOrderWithExactShape) {
    constexpr std::int64_t user = 5400;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 10'000);
    CommercePg::ProductSpec spec;
    spec.price = 350;
    spec.stock = 10;
    spec.name = "E2E low " + unique_code("n");
    const std::int64_t low = pg.insert_product(spec);  // smaller id
    spec.price = 1'200;
    spec.name = "E2E high " + unique_code("n");
    const std::int64_t high = pg.insert_product(spec);
    const std::string key = unique_key("create");

    // Lines in descending productId order; the response lists them ascending.
    const auto r = client.post(kOrders, order_body(user, {{high, 2}, {low, 3}}, std::nullopt, key));
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_order_shape(v));
    const std::int64_t order = as_i64(v.at("orderId"));
    EXPECT_EQ(as_i64(v.at("userId")), user);
    EXPECT_EQ(str(v.at("status")), "PENDING");
    EXPECT_EQ(as_i64(v.at("subtotalAmount")), 3 * 350 + 2 * 1'200);
    EXPECT_EQ(as_i64(v.at("discountAmount")), 0);
    EXPECT_EQ(as_i64(v.at("totalAmount")), 3 * 350 + 2 * 1'200);
    const auto& items = v.at("items").as_array();
    ASSERT_EQ(items.size(), 2u) << r.body;
    EXPECT_EQ(as_i64(items[0].at("productId")), low);
    EXPECT_EQ(str(items[0].at("productName")),
              pg.exec("SELECT name FROM products WHERE id = $1", {std::to_string(low)}));
    EXPECT_EQ(as_i64(items[0].at("quantity")), 3);
    EXPECT_EQ(as_i64(items[0].at("unitPrice")), 350);
    EXPECT_EQ(as_i64(items[0].at("subtotal")), 1'050);
    EXPECT_EQ(as_i64(items[1].at("productId")), high);
    EXPECT_EQ(str(items[1].at("productName")), spec.name);
    EXPECT_EQ(as_i64(items[1].at("quantity")), 2);
    EXPECT_EQ(as_i64(items[1].at("unitPrice")), 1'200);
    EXPECT_EQ(as_i64(items[1].at("subtotal")), 2'400);

    // What was written: the PENDING order and its lines; no stock, balance or outbox change.
    const std::string o = std::to_string(order);
    EXPECT_EQ(pg.order_status(order), "PENDING");
    EXPECT_FALSE(pg.order_paid_at_set(order));
    EXPECT_EQ(pg.int64("SELECT user_id FROM orders WHERE id = $1", {o}), user);
    EXPECT_EQ(pg.exec("SELECT order_number FROM orders WHERE id = $1", {o}), str(v.at("orderNumber")));
    EXPECT_EQ(pg.exec("SELECT coalesce(coupon_id::text, 'null') FROM orders WHERE id = $1", {o}), "null");
    EXPECT_EQ(str(v.at("createdAt")), pg.local_ts("orders", "created_at", order));
    EXPECT_EQ(pg.int64("SELECT count(*) FROM order_items WHERE order_id = $1", {o}), 2);
    EXPECT_EQ(pg.stock(low), 10) << "order creation must not take stock";
    EXPECT_EQ(pg.stock(high), 10);
    EXPECT_EQ(pg.balance(user), 10'000);
    EXPECT_EQ(pg.outbox_rows(order), 0);
    EXPECT_EQ(pg.order_key_rows(user, key), 1);
}

TEST_F(OrdersE2E, DuplicateProductLinesAreMerged) {
    constexpr std::int64_t user = 5401;
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t product = pg.insert_product(100, 5);

    const auto r = client.post(
        kOrders, order_body(user, {{product, 2}, {product, 3}}, std::nullopt, unique_key("merge")));
    ASSERT_EQ(r.status, 201) << r.body;
    const auto v = r.json();
    ASSERT_TRUE(expect_order_shape(v));
    ASSERT_EQ(v.at("items").as_array().size(), 1u) << r.body;
    EXPECT_EQ(as_i64(v.at("items").as_array()[0].at("quantity")), 5);
    EXPECT_EQ(as_i64(v.at("items").as_array()[0].at("subtotal")), 500);
    EXPECT_EQ(as_i64(v.at("subtotalAmount")), 500);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM order_items WHERE order_id = $1",
                       {std::to_string(as_i64(v.at("orderId")))}),
              1);

    // Merged quantities are checked against the stock: 3 + 3 > 5 although each line fits.
    const Snapshot before = snapshot(pg, user, {product});
    const std::string key = unique_key("merge-over");
    expect_error(client.post(kOrders, order_body(user, {{product, 3}, {product, 3}}, std::nullopt, key)), 409,
                 "P002");
    EXPECT_EQ(snapshot(pg, user, {product}), before);
    EXPECT_EQ(pg.idempotency_rows(user, key), 0);
}

TEST_F(OrdersE2E, CouponDiscountIsFlooredAndTheCouponStaysAvailable) {
    constexpr std::int64_t user = 5402;
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t product = pg.insert_product(3'333, 10);
    const std::int64_t coupon = pg.insert_coupon(15, 10);
    issue(client, coupon, user);

    // 3 x 3,333 = 9,999; 15% = 1,499.85 -> 1,499.
    const auto r = client.post(kOrders, order_body(user, {{product, 3}}, coupon, unique_key("discount")));
    ASSERT_EQ(r.status, 201) << r.body;
    const auto v = r.json();
    ASSERT_TRUE(expect_order_shape(v));
    EXPECT_EQ(as_i64(v.at("subtotalAmount")), 9'999);
    EXPECT_EQ(as_i64(v.at("discountAmount")), 1'499);
    EXPECT_EQ(as_i64(v.at("totalAmount")), 8'500);
    const std::int64_t order = as_i64(v.at("orderId"));
    EXPECT_EQ(pg.int64("SELECT coupon_id FROM orders WHERE id = $1", {std::to_string(order)}), coupon);
    EXPECT_EQ(pg.int64("SELECT discount_amount FROM orders WHERE id = $1", {std::to_string(order)}), 1'499);
    EXPECT_EQ(pg.user_coupon_status(user, coupon), "AVAILABLE")
        << "the coupon is used by the payment, not the order";

    // 1 x 3,333 at 15% = 499.95 -> 499.
    const auto one = client.post(kOrders, order_body(user, {{product, 1}}, coupon, unique_key("discount-1")));
    ASSERT_EQ(one.status, 201) << one.body;
    EXPECT_EQ(as_i64(one.json().at("discountAmount")), 499);
    EXPECT_EQ(as_i64(one.json().at("totalAmount")), 2'834);
}

TEST_F(OrdersE2E, ReplayWithTheSameKeyReturnsTheSameOrder) {
    constexpr std::int64_t user = 5403;
    constexpr std::int64_t other_user = 5404;
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t product = pg.insert_product(250, 10);
    const std::int64_t other = pg.insert_product(250, 10);
    const std::string key = unique_key("replay");

    const auto first = client.post(kOrders, order_body(user, {{product, 2}}, std::nullopt, key));
    ASSERT_EQ(first.status, 201) << first.body;
    const std::int64_t order = as_i64(first.json().at("orderId"));
    const Snapshot after_first = snapshot(pg, user, {product, other});

    const auto replay = client.post(kOrders, order_body(user, {{product, 2}}, std::nullopt, key));
    ASSERT_EQ(replay.status, 201) << replay.body;
    ASSERT_TRUE(expect_order_shape(replay.json()));
    EXPECT_EQ(as_i64(replay.json().at("orderId")), order);
    EXPECT_EQ(replay.json(), first.json());
    // Another field order and an unknown field: the same request.
    HttpClient fresh(port());
    const auto replay2 = fresh.post(
        kOrders, R"({"note":"x","idempotencyKey":")" + key + R"(","items":[{"quantity":2,"productId":)" +
                     std::to_string(product) + R"(}],"userId":)" + std::to_string(user) + "}");
    ASSERT_EQ(replay2.status, 201) << replay2.body;
    EXPECT_EQ(as_i64(replay2.json().at("orderId")), order);
    EXPECT_EQ(snapshot(pg, user, {product, other}), after_first) << "a replay wrote something";
    EXPECT_EQ(pg.order_key_rows(user, key), 1);

    // The same key with another body is refused and writes nothing.
    const std::int64_t coupon = pg.insert_coupon(10, 5);
    issue(client, coupon, user);
    const Snapshot before_reuse = snapshot(pg, user, {product, other}, coupon);
    for (const auto& [name, body] : std::vector<std::pair<std::string, std::string>>{
             {"other quantity", order_body(user, {{product, 3}}, std::nullopt, key)},
             {"other product", order_body(user, {{other, 2}}, std::nullopt, key)},
             {"extra line", order_body(user, {{product, 2}, {other, 1}}, std::nullopt, key)},
             {"with a coupon", order_body(user, {{product, 2}}, coupon, key)}}) {
        SCOPED_TRACE(name);
        const auto r = client.post(kOrders, body);
        expect_error(r, 400, "COMMON002");
        EXPECT_NE(error_message(r).find("idempotencyKey"), std::string::npos) << r.body;
        EXPECT_EQ(snapshot(pg, user, {product, other}, coupon), before_reuse);
    }
    // The original still replays.
    const auto replay3 = client.post(kOrders, order_body(user, {{product, 2}}, std::nullopt, key));
    ASSERT_EQ(replay3.status, 201) << replay3.body;
    EXPECT_EQ(as_i64(replay3.json().at("orderId")), order);

    // The same key of another user is another request.
    const auto theirs = client.post(kOrders, order_body(other_user, {{product, 2}}, std::nullopt, key));
    ASSERT_EQ(theirs.status, 201) << theirs.body;
    EXPECT_NE(as_i64(theirs.json().at("orderId")), order);
    EXPECT_EQ(as_i64(theirs.json().at("userId")), other_user);

    // Sold out since: the checks would refuse the request now, but its key's order exists, so it
    // is a replay (V023: the refusal looks for the key's order).
    pg.set_stock(product, 1);
    const auto late = client.post(kOrders, order_body(user, {{product, 2}}, std::nullopt, key));
    ASSERT_EQ(late.status, 201) << late.body;
    EXPECT_EQ(as_i64(late.json().at("orderId")), order);
    expect_error(client.post(kOrders, order_body(user, {{product, 3}}, std::nullopt, key)), 400, "COMMON002");
    EXPECT_EQ(pg.order_key_rows(user, key), 1);
}

TEST_F(OrdersE2E, CreateRejectsBadInputAndWritesNothing) {
    constexpr std::int64_t user = 5405;
    CommercePg pg;
    const std::int64_t product = pg.insert_product(500, 5);
    const std::int64_t other_product = pg.insert_product(500, 5);
    // Coupons in every unusable state: not owned, used, not yet started, ended.
    const std::int64_t not_owned = pg.insert_coupon(10, 5);
    const std::int64_t used = pg.insert_coupon(10, 5);
    const std::int64_t future =
        pg.insert_coupon(10, 5, "now() + interval '1 day'", "now() + interval '2 days'");
    const std::int64_t ended =
        pg.insert_coupon(10, 5, "now() - interval '3 days'", "now() - interval '1 minute'");
    const std::string u = std::to_string(user);
    pg.exec(
        "INSERT INTO user_coupons (user_id, coupon_id, status, used_at, expires_at) "
        "VALUES ($1, $2, 'USED', now(), now() + interval '30 days')",
        {u, std::to_string(used)});
    pg.exec(
        "INSERT INTO user_coupons (user_id, coupon_id, status, expires_at) VALUES ($1, $2, 'AVAILABLE', "
        "now() + interval '2 days')",
        {u, std::to_string(future)});
    pg.exec(
        "INSERT INTO user_coupons (user_id, coupon_id, status, expires_at) VALUES ($1, $2, 'AVAILABLE', "
        "now() - interval '1 minute')",
        {u, std::to_string(ended)});
    const std::string p = std::to_string(product);
    const std::string item = R"({"productId":)" + p + R"(,"quantity":1})";

    auto post = [](std::function<std::string(const std::string& key)> body) {
        return [body](HttpClient& c, const std::string& key) { return c.post(kOrders, body(key)); };
    };
    auto raw = [](const std::string& fields) {
        return [fields](HttpClient& c, const std::string& key) {
            std::string body = fields;
            for (auto pos = body.find("$KEY"); pos != std::string::npos; pos = body.find("$KEY"))
                body.replace(pos, 4, key);
            return c.post(kOrders, body);
        };
    };
    auto lines = [&](Lines l, std::optional<std::int64_t> coupon = std::nullopt) {
        return post([=](const std::string& key) { return order_body(user, l, coupon, key); });
    };
    std::string key101 = unique_key("k101");
    key101.resize(101, 'k');

    const std::vector<Case> cases = {
        {"quantity 0", lines({{product, 0}}), 400, "O001", ""},
        {"quantity -1", lines({{product, -1}}), 400, "O001", ""},
        {"quantity 0 beside a valid line", lines({{other_product, 1}, {product, 0}}), 400, "O001", ""},
        {"missing userId", raw(R"({"items":[)" + item + R"(],"idempotencyKey":"$KEY"})"), 400, "COMMON002",
         "userId"},
        {"userId as string",
         raw(R"({"userId":")" + u + R"(","items":[)" + item + R"(],"idempotencyKey":"$KEY"})"), 400,
         "COMMON002", "userId"},
        {"missing items", raw(R"({"userId":)" + u + R"(,"idempotencyKey":"$KEY"})"), 400, "COMMON002",
         "items"},
        {"items null", raw(R"({"userId":)" + u + R"(,"items":null,"idempotencyKey":"$KEY"})"), 400,
         "COMMON002", "items"},
        {"empty items", raw(R"({"userId":)" + u + R"(,"items":[],"idempotencyKey":"$KEY"})"), 400,
         "COMMON002", "items"},
        {"items an object", raw(R"({"userId":)" + u + R"(,"items":)" + item + R"(,"idempotencyKey":"$KEY"})"),
         400, "COMMON002", "items"},
        {"item without productId",
         raw(R"({"userId":)" + u + R"(,"items":[{"quantity":1}],"idempotencyKey":"$KEY"})"), 400, "COMMON002",
         "productId"},
        {"item without quantity",
         raw(R"({"userId":)" + u + R"(,"items":[{"productId":)" + p + R"(}],"idempotencyKey":"$KEY"})"), 400,
         "COMMON002", "quantity"},
        {"quantity as string",
         raw(R"({"userId":)" + u + R"(,"items":[{"productId":)" + p +
             R"(,"quantity":"1"}],"idempotencyKey":"$KEY"})"),
         400, "COMMON002", "quantity"},
        {"quantity above int32",
         raw(R"({"userId":)" + u + R"(,"items":[{"productId":)" + p +
             R"(,"quantity":2147483648}],"idempotencyKey":"$KEY"})"),
         400, "COMMON002", ""},
        {"quantity 1.0",
         raw(R"({"userId":)" + u + R"(,"items":[{"productId":)" + p +
             R"(,"quantity":1.0}],"idempotencyKey":"$KEY"})"),
         400, "COMMON002", "quantity"},
        {"item null", raw(R"({"userId":)" + u + R"(,"items":[null],"idempotencyKey":"$KEY"})"), 400,
         "COMMON002", "items"},
        {"productId as string",
         raw(R"({"userId":)" + u + R"(,"items":[{"productId":")" + p +
             R"(","quantity":1}],"idempotencyKey":"$KEY"})"),
         400, "COMMON002", "productId"},
        {"missing idempotencyKey", raw(R"({"userId":)" + u + R"(,"items":[)" + item + "]}"), 400, "COMMON002",
         "idempotencyKey"},
        {"blank idempotencyKey",
         raw(R"({"userId":)" + u + R"(,"items":[)" + item + R"(],"idempotencyKey":"   "})"), 400, "COMMON002",
         "idempotencyKey"},
        {"empty idempotencyKey",
         raw(R"({"userId":)" + u + R"(,"items":[)" + item + R"(],"idempotencyKey":""})"), 400, "COMMON002",
         "idempotencyKey"},
        {"idempotencyKey as number",
         raw(R"({"userId":)" + u + R"(,"items":[)" + item + R"(],"idempotencyKey":12345})"), 400, "COMMON002",
         "idempotencyKey"},
        {"idempotencyKey of 101 chars",
         [&](HttpClient& c, const std::string&) {
             return c.post(kOrders, order_body(user, {{product, 1}}, std::nullopt, key101));
         },
         400, "COMMON002", "idempotencyKey"},
        {"couponId as string",
         raw(R"({"userId":)" + u + R"(,"items":[)" + item + R"(],"couponId":"1","idempotencyKey":"$KEY"})"),
         400, "COMMON002", "couponId"},
        {"malformed JSON", raw(R"({"userId":)" + u + R"(,"items":[)"), 400, "COMMON002", ""},
        {"text/plain",
         [&](HttpClient& c, const std::string& key) {
             return c.post(kOrders, order_body(user, {{product, 1}}, std::nullopt, key), "text/plain");
         },
         415, "COMMON006", ""},
        {"unknown user", post([&](const std::string& key) {
             return order_body(kUnknownId, {{product, 1}}, std::nullopt, key);
         }),
         404, "U001", std::to_string(kUnknownId)},
        {"unknown product", lines({{product, 1}, {kUnknownId, 1}}), 404, "P001", std::to_string(kUnknownId)},
        {"quantity above stock", lines({{product, 6}}), 409, "P002", ""},
        {"unknown coupon", lines({{product, 1}}, kUnknownId), 400, "C002", ""},
        {"coupon not owned", lines({{product, 1}}, not_owned), 400, "C002", ""},
        {"coupon already used", lines({{product, 1}}, used), 400, "C002", ""},
        {"coupon not started", lines({{product, 1}}, future), 400, "C003", ""},
        {"coupon ended", lines({{product, 1}}, ended), 400, "C003", ""},
    };
    const auto state = [&] {
        Snapshot s = snapshot(pg, user, {product, other_product});
        s.coupon = pg.user_coupon_status(user, used) + "/" + pg.user_coupon_status(user, future) + "/" +
                   pg.user_coupon_status(user, ended) + "/" + pg.user_coupon_status(user, not_owned);
        return s;
    };
    run_cases(port(), cases, pg, user, state);
    EXPECT_EQ(pg.idempotency_rows(user, key101.substr(0, 100)), 0);

    // The well-formed request of the same shape succeeds.
    HttpClient client(port());
    EXPECT_NE(create_order(client, user, {{product, 5}}), 0);
}

TEST_F(OrdersE2E, IdempotencyKeysOfOneHundredCharactersAreAccepted) {
    constexpr std::int64_t user = 5406;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 10'000);
    const std::int64_t product = pg.insert_product(100, 10);
    std::string ascii = unique_key("k100-");
    ascii.resize(100, 'k');
    // 100 characters, most of them 3-byte UTF-8: the limit counts characters.
    std::string utf8 = unique_key("k");
    for (std::size_t i = utf8.size(); i < 100;) {
        utf8 += "\xea\xb0\x80";  // U+AC00
        ++i;
    }

    for (const auto& key : {ascii, utf8}) {
        SCOPED_TRACE(key);
        const auto created = client.post(kOrders, order_body(user, {{product, 1}}, std::nullopt, key));
        ASSERT_EQ(created.status, 201) << created.body;
        const std::int64_t order = as_i64(created.json().at("orderId"));
        EXPECT_EQ(pg.order_key_rows(user, key), 1);
        const auto paid = client.post(payment_path(order), payment_body(user, key));
        ASSERT_EQ(paid.status, 200) << paid.body;
        EXPECT_EQ(pg.idempotency_rows(user, "PAYMENT", key), 1);
        const auto replay = client.post(payment_path(order), payment_body(user, key));
        EXPECT_EQ(replay.status, 200);
        EXPECT_EQ(replay.body, paid.body);
    }
    EXPECT_EQ(pg.balance(user), 10'000 - 200);
    EXPECT_EQ(pg.stock(product), 8);
}

// ================================================================================================
// POST /api/orders/{orderId}/payment

TEST_F(OrdersE2E, PaymentTakesBalanceStockAndCouponAndCompletesTheOrder) {
    constexpr std::int64_t user = 5410;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 100'000);
    const std::int64_t a = pg.insert_product(1'000, 10);
    const std::int64_t b = pg.insert_product(2'500, 5);
    const std::int64_t coupon = pg.insert_coupon(10, 10);
    issue(client, coupon, user);
    const std::int64_t order = create_order(client, user, {{a, 3}, {b, 2}}, coupon);
    ASSERT_NE(order, 0);
    // 3,000 + 5,000 = 8,000; 10% off = 7,200.
    // Warm the product cache: the payment must refresh it.
    const auto warm = await_product(client, a);
    ASSERT_EQ(warm.status, 200) << warm.body;
    ASSERT_EQ(as_i64(warm.json().at("stock")), 10);
    const std::string key = unique_key("pay");

    const auto r = client.post(payment_path(order), payment_body(user, key));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_payment_shape(v));
    EXPECT_EQ(as_i64(v.at("orderId")), order);
    EXPECT_EQ(as_i64(v.at("paidAmount")), 7'200);
    EXPECT_EQ(as_i64(v.at("remainingBalance")), 92'800);
    EXPECT_EQ(str(v.at("paidAt")), pg.local_ts("orders", "paid_at", order));

    // Effects: balance, stock, coupon, order, outbox, idempotency record.
    EXPECT_EQ(pg.balance(user), 92'800);
    EXPECT_EQ(pg.stock(a), 7);
    EXPECT_EQ(pg.stock(b), 3);
    EXPECT_EQ(pg.user_coupon_status(user, coupon), "USED");
    EXPECT_EQ(pg.int64("SELECT used_order_id FROM user_coupons WHERE user_id = $1 AND coupon_id = $2",
                       {std::to_string(user), std::to_string(coupon)}),
              order);
    EXPECT_EQ(pg.order_status(order), "COMPLETED");
    EXPECT_TRUE(pg.order_paid_at_set(order));
    EXPECT_EQ(
        pg.exec("SELECT coalesce(payment_key, 'null') FROM orders WHERE id = $1", {std::to_string(order)}),
        "null");
    EXPECT_EQ(pg.outbox_rows(order), 1);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM outbox_events WHERE aggregate_id = $1", {std::to_string(order)}),
              1);
    EXPECT_EQ(pg.idempotency_rows(user, "PAYMENT", key), 1);
    EXPECT_EQ(
        pg.exec("SELECT status FROM idempotency_records WHERE user_id = $1 AND operation = 'PAYMENT' AND "
                "idempotency_key = $2",
                {std::to_string(user), key}),
        "COMPLETED");

    // Visible through the API at once: product stock (no waiting for the cache) and order status.
    const auto product = client.get(product_path(a));
    ASSERT_EQ(product.status, 200) << product.body;
    EXPECT_EQ(as_i64(product.json().at("stock")), 7) << "the payment did not refresh the product cache";
    const auto got = client.get(order_path(order));
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(str(got.json().at("status")), "COMPLETED");
    const auto balance = client.get(balance_path(user));
    ASSERT_EQ(balance.status, 200) << balance.body;
    EXPECT_EQ(as_i64(balance.json().at("balance")), 92'800);
}

TEST_F(OrdersE2E, PaymentReplayReturnsByteIdenticalBodyAndPaysOnce) {
    constexpr std::int64_t user = 5411;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 50'000);
    const std::int64_t product = pg.insert_product(1'500, 10);
    const std::int64_t order = create_order(client, user, {{product, 2}});
    ASSERT_NE(order, 0);
    const std::string key = unique_key("pay-replay");

    const auto first = client.post(payment_path(order), payment_body(user, key));
    ASSERT_EQ(first.status, 200) << first.body;
    // Move the balance on; the replay still answers the stored first response.
    ASSERT_EQ(client.post(charge_path(user), charge_body(700, unique_key("pay-replay-charge"))).status, 200);
    const Snapshot after_first = snapshot(pg, user, {product}, 0, order);

    const auto replay = client.post(payment_path(order), payment_body(user, key));
    EXPECT_EQ(replay.status, 200);
    EXPECT_EQ(replay.body, first.body);
    HttpClient fresh(port());
    const auto replay2 =
        fresh.post(payment_path(order), R"({"paymentMethod":"card","idempotencyKey":")" + key +
                                            R"(","userId":)" + std::to_string(user) + "}");
    EXPECT_EQ(replay2.status, 200);
    EXPECT_EQ(replay2.body, first.body);

    EXPECT_EQ(snapshot(pg, user, {product}, 0, order), after_first) << "a replay paid again";
    EXPECT_EQ(pg.balance(user), 50'000 - 3'000 + 700);
    EXPECT_EQ(pg.stock(product), 8);
    EXPECT_EQ(pg.outbox_rows(order), 1);
}

TEST_F(OrdersE2E, ConcurrentPaymentsWithOneKeyPayOnceWithOneBody) {
    constexpr std::int64_t user = 5412;
    constexpr int n = 6;
    CommercePg pg;
    pg.set_balance(user, 50'000);
    const std::int64_t product = pg.insert_product(1'000, 10);
    std::int64_t order = 0;
    {
        HttpClient client(port());
        order = create_order(client, user, {{product, 3}});
    }
    ASSERT_NE(order, 0);
    const std::string key = unique_key("pay-conc");

    const auto responses = parallel(
        port(), n, [&](int, HttpClient& c) { return c.post(payment_path(order), payment_body(user, key)); });
    for (int i = 0; i < n; ++i) {
        const auto& r = responses[static_cast<std::size_t>(i)];
        EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.body;
        EXPECT_EQ(r.body, responses[0].body) << "request " << i;
    }
    EXPECT_EQ(pg.balance(user), 47'000);
    EXPECT_EQ(pg.stock(product), 7);
    EXPECT_EQ(pg.order_status(order), "COMPLETED");
    EXPECT_EQ(pg.outbox_rows(order), 1);
    EXPECT_EQ(pg.idempotency_rows(user, "PAYMENT", key), 1);
}

TEST_F(OrdersE2E, PayingACompletedOrderAgainIsO003) {
    constexpr std::int64_t user = 5413;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 50'000);
    const std::int64_t product = pg.insert_product(1'000, 10);
    const std::int64_t order = create_order(client, user, {{product, 1}});
    ASSERT_NE(order, 0);
    ASSERT_EQ(client.post(payment_path(order), payment_body(user, unique_key("pay-once"))).status, 200);
    const Snapshot before = snapshot(pg, user, {product}, 0, order);

    const std::string key = unique_key("pay-twice");
    const auto r = client.post(payment_path(order), payment_body(user, key));
    expect_error(r, 400, "O003");
    EXPECT_NE(error_message(r).find("COMPLETED"), std::string::npos) << r.body;
    EXPECT_EQ(snapshot(pg, user, {product}, 0, order), before);
    EXPECT_EQ(pg.idempotency_rows(user, key), 0);
    EXPECT_EQ(pg.outbox_rows(order), 1);

    // A key the gateway would decline does not get that far: the order is refused first.
    const std::string fail_key = unique_key("pay-twice-FAIL");
    expect_error(client.post(payment_path(order), payment_body(user, fail_key)), 400, "O003");
    EXPECT_EQ(snapshot(pg, user, {product}, 0, order), before);
    EXPECT_EQ(pg.idempotency_rows(user, fail_key), 0);
}

TEST_F(OrdersE2E, DeclinedPaymentRestoresEverythingAndANewKeyPays) {
    constexpr std::int64_t user = 5414;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 30'000);
    const std::int64_t a = pg.insert_product(2'000, 6);
    const std::int64_t b = pg.insert_product(700, 4);
    const std::int64_t coupon = pg.insert_coupon(20, 10);
    issue(client, coupon, user);
    const std::int64_t order = create_order(client, user, {{a, 2}, {b, 4}}, coupon);
    ASSERT_NE(order, 0);
    // 4,000 + 2,800 = 6,800; 20% off = 5,440.
    ASSERT_EQ(await_product(client, a).status, 200);  // cached before the payment
    const Snapshot before = snapshot(pg, user, {a, b}, coupon, order);
    ASSERT_EQ(before.coupon, "AVAILABLE/-/false");
    ASSERT_EQ(before.order, "PENDING/false/-/outbox=0");

    const std::string fail_key = unique_key("pay-FAIL");
    const auto declined = client.post(payment_path(order), payment_body(user, fail_key));
    expect_error(declined, 402, "PAY002");
    Snapshot after = snapshot(pg, user, {a, b}, coupon, order);
    after.idempotency = before.idempotency;  // the decline is recorded under its key
    EXPECT_EQ(after, before) << "balance, stock or coupon not restored exactly";
    EXPECT_EQ(pg.balance(user), 30'000);
    EXPECT_EQ(pg.order_status(order), "PENDING");
    EXPECT_EQ(pg.outbox_rows(order), 0);
    // The compensation refreshed the product cache too.
    const auto product = client.get(product_path(a));
    ASSERT_EQ(product.status, 200) << product.body;
    EXPECT_EQ(as_i64(product.json().at("stock")), 6);

    // The declined key replays the decline; a lower-case "fail" declines as well.
    expect_error(client.post(payment_path(order), payment_body(user, fail_key)), 402, "PAY002");
    expect_error(client.post(payment_path(order), payment_body(user, unique_key("pay-fail"))), 402, "PAY002");
    after = snapshot(pg, user, {a, b}, coupon, order);
    after.idempotency = before.idempotency;
    EXPECT_EQ(after, before);

    // A new key pays: every effect exactly once.
    const auto paid = client.post(payment_path(order), payment_body(user, unique_key("pay-after-decline")));
    ASSERT_EQ(paid.status, 200) << paid.body;
    ASSERT_TRUE(expect_payment_shape(paid.json()));
    EXPECT_EQ(as_i64(paid.json().at("paidAmount")), 5'440);
    EXPECT_EQ(as_i64(paid.json().at("remainingBalance")), 30'000 - 5'440);
    EXPECT_EQ(pg.balance(user), 30'000 - 5'440);
    EXPECT_EQ(pg.stock(a), 4);
    EXPECT_EQ(pg.stock(b), 0);
    EXPECT_EQ(pg.user_coupon_status(user, coupon), "USED");
    EXPECT_EQ(pg.order_status(order), "COMPLETED");
    EXPECT_EQ(pg.outbox_rows(order), 1);
    // The old declined key still answers its decline and changes nothing.
    expect_error(client.post(payment_path(order), payment_body(user, fail_key)), 402, "PAY002");
    EXPECT_EQ(pg.balance(user), 30'000 - 5'440);
}

TEST_F(OrdersE2E, PayingSomeoneElsesOrderIsRejected) {
    constexpr std::int64_t owner = 5415;
    constexpr std::int64_t intruder = 5416;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(owner, 20'000);
    pg.set_balance(intruder, 20'000);
    const std::int64_t product = pg.insert_product(1'000, 10);
    const std::int64_t order = create_order(client, owner, {{product, 2}});
    ASSERT_NE(order, 0);
    const Snapshot owner_before = snapshot(pg, owner, {product}, 0, order);
    const Snapshot intruder_before = snapshot(pg, intruder, {product});

    const std::string key = unique_key("pay-intruder");
    expect_error(client.post(payment_path(order), payment_body(intruder, key)), 400, "COMMON002");
    EXPECT_EQ(snapshot(pg, owner, {product}, 0, order), owner_before);
    EXPECT_EQ(snapshot(pg, intruder, {product}), intruder_before);
    EXPECT_EQ(pg.idempotency_rows(intruder, key), 0);

    // The owner can still pay.
    ASSERT_EQ(client.post(payment_path(order), payment_body(owner, unique_key("pay-owner"))).status, 200);
    EXPECT_EQ(pg.balance(owner), 18'000);
    EXPECT_EQ(pg.balance(intruder), 20'000);
}

TEST_F(OrdersE2E, InsufficientBalanceIsPAY001AndChangesNothing) {
    constexpr std::int64_t user = 5417;
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t product = pg.insert_product(1'000, 10);
    const std::int64_t coupon = pg.insert_coupon(10, 10);
    issue(client, coupon, user);
    const std::int64_t order = create_order(client, user, {{product, 3}}, coupon);  // 3,000 - 300 = 2,700
    ASSERT_NE(order, 0);
    pg.set_balance(user, 2'699);
    const Snapshot before = snapshot(pg, user, {product}, coupon, order);

    const std::string key = unique_key("pay-poor");
    const auto r = client.post(payment_path(order), payment_body(user, key));
    expect_error(r, 409, "PAY001");
    EXPECT_EQ(snapshot(pg, user, {product}, coupon, order), before);
    EXPECT_EQ(pg.idempotency_rows(user, key), 0);

    // Exactly enough pays and leaves 0.
    pg.set_balance(user, 2'700);
    const auto paid = client.post(payment_path(order), payment_body(user, unique_key("pay-exact")));
    ASSERT_EQ(paid.status, 200) << paid.body;
    EXPECT_EQ(as_i64(paid.json().at("remainingBalance")), 0);
    EXPECT_EQ(pg.balance(user), 0);
}

TEST_F(OrdersE2E, StockTakenByAnotherPaymentIsP002) {
    constexpr std::int64_t user = 5418;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 50'000);
    const std::int64_t product = pg.insert_product(1'000, 5);
    // Both orders fit the stock when created (stock is checked, not taken).
    const std::int64_t first = create_order(client, user, {{product, 3}});
    const std::int64_t second = create_order(client, user, {{product, 3}});
    ASSERT_NE(first, 0);
    ASSERT_NE(second, 0);
    ASSERT_EQ(client.post(payment_path(first), payment_body(user, unique_key("pay-stock-1"))).status, 200);
    const Snapshot before = snapshot(pg, user, {product}, 0, second);
    ASSERT_EQ(before.stocks, std::vector<std::int64_t>{2});

    const std::string key = unique_key("pay-stock-2");
    expect_error(client.post(payment_path(second), payment_body(user, key)), 409, "P002");
    EXPECT_EQ(snapshot(pg, user, {product}, 0, second), before);
    EXPECT_EQ(pg.idempotency_rows(user, key), 0);
}

// The reservation takes balance and stock line by line (V015): a later line short of stock puts back
// the balance and the earlier lines' stock before the refusal.
TEST_F(OrdersE2E, StockShortOnALaterLineLeavesBalanceAndEveryStockAsTheyWere) {
    constexpr std::int64_t user = 5422;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 50'000);
    const std::int64_t ample = pg.insert_product(1'000, 10);
    const std::int64_t scarce = pg.insert_product(2'000, 4);  // a higher id: locked and taken second
    const std::int64_t first = create_order(client, user, {{scarce, 3}});
    const std::int64_t second = create_order(client, user, {{ample, 2}, {scarce, 3}});
    ASSERT_NE(first, 0);
    ASSERT_NE(second, 0);
    ASSERT_EQ(client.post(payment_path(first), payment_body(user, unique_key("pay-later-1"))).status, 200);
    const Snapshot before = snapshot(pg, user, {ample, scarce}, 0, second);
    ASSERT_EQ(before.stocks, (std::vector<std::int64_t>{10, 1}));

    const std::string key = unique_key("pay-later-2");
    expect_error(client.post(payment_path(second), payment_body(user, key)), 409, "P002");
    EXPECT_EQ(snapshot(pg, user, {ample, scarce}, 0, second), before);
    EXPECT_EQ(pg.idempotency_rows(user, key), 0);

    // Once the stock is there, the same order pays with a new key.
    pg.set_stock(scarce, 3);
    ASSERT_EQ(client.post(payment_path(second), payment_body(user, unique_key("pay-later-3"))).status, 200);
    EXPECT_EQ(pg.stock(ample), 8);
    EXPECT_EQ(pg.stock(scarce), 0);
}

TEST_F(OrdersE2E, CouponUsedByAnotherOrderIsC002AtPayment) {
    constexpr std::int64_t user = 5419;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 50'000);
    const std::int64_t product = pg.insert_product(1'000, 10);
    const std::int64_t coupon = pg.insert_coupon(50, 10);
    issue(client, coupon, user);
    const std::int64_t first = create_order(client, user, {{product, 1}}, coupon);
    const std::int64_t second = create_order(client, user, {{product, 2}}, coupon);
    ASSERT_NE(first, 0);
    ASSERT_NE(second, 0);
    ASSERT_EQ(client.post(payment_path(first), payment_body(user, unique_key("pay-coupon-1"))).status, 200);
    const Snapshot before = snapshot(pg, user, {product}, coupon, second);

    const std::string key = unique_key("pay-coupon-2");
    expect_error(client.post(payment_path(second), payment_body(user, key)), 400, "C002");
    EXPECT_EQ(snapshot(pg, user, {product}, coupon, second), before);
    EXPECT_EQ(pg.idempotency_rows(user, key), 0);
    EXPECT_EQ(pg.int64("SELECT used_order_id FROM user_coupons WHERE user_id = $1 AND coupon_id = $2",
                       {std::to_string(user), std::to_string(coupon)}),
              first);
}

TEST_F(OrdersE2E, AnotherPaymentInFlightIsPAY003) {
    constexpr std::int64_t user = 5420;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 50'000);
    const std::int64_t product = pg.insert_product(1'000, 10);
    const std::int64_t order = create_order(client, user, {{product, 1}});
    ASSERT_NE(order, 0);
    // As if another payment of this order had reserved it and not finished yet.
    pg.exec("UPDATE orders SET payment_key = 'e2e-in-flight' WHERE id = $1", {std::to_string(order)});
    const Snapshot before = snapshot(pg, user, {product}, 0, order);

    const std::string key = unique_key("pay-second");
    expect_error(client.post(payment_path(order), payment_body(user, key)), 409, "PAY003");
    EXPECT_EQ(snapshot(pg, user, {product}, 0, order), before);
    EXPECT_EQ(pg.idempotency_rows(user, key), 0);

    pg.exec("UPDATE orders SET payment_key = NULL WHERE id = $1", {std::to_string(order)});
    ASSERT_EQ(client.post(payment_path(order), payment_body(user, unique_key("pay-after-flight"))).status,
              200);
    EXPECT_EQ(pg.balance(user), 49'000);
}

TEST_F(OrdersE2E, PaymentRejectsBadInputAndWritesNothing) {
    constexpr std::int64_t user = 5421;
    CommercePg pg;
    HttpClient setup(port());
    pg.set_balance(user, 50'000);
    const std::int64_t product = pg.insert_product(1'000, 10);
    const std::int64_t order = create_order(setup, user, {{product, 2}});
    const std::int64_t paid_order = create_order(setup, user, {{product, 1}});
    ASSERT_NE(order, 0);
    ASSERT_NE(paid_order, 0);
    const std::string used_key = unique_key("pay-used-key");
    ASSERT_EQ(setup.post(payment_path(paid_order), payment_body(user, used_key)).status, 200);
    const std::string u = std::to_string(user);
    const std::string path = payment_path(order);
    std::string key101 = unique_key("k101");
    key101.resize(101, 'k');

    auto raw = [path](const std::string& body) {
        return [path, body](HttpClient& c, const std::string& key) {
            std::string b = body;
            for (auto pos = b.find("$KEY"); pos != std::string::npos; pos = b.find("$KEY"))
                b.replace(pos, 4, key);
            return c.post(path, b);
        };
    };
    const std::vector<Case> cases = {
        {"unknown order",
         [&](HttpClient& c, const std::string& key) {
             return c.post(payment_path(kUnknownId), payment_body(user, key));
         },
         404, "O002", std::to_string(kUnknownId)},
        {"unknown user",
         [&](HttpClient& c, const std::string& key) { return c.post(path, payment_body(kUnknownId, key)); },
         404, "U001", std::to_string(kUnknownId)},
        {"key already used for another order",
         [&](HttpClient& c, const std::string&) { return c.post(path, payment_body(user, used_key)); }, 400,
         "COMMON002", "idempotencyKey"},
        {"missing userId", raw(R"({"idempotencyKey":"$KEY"})"), 400, "COMMON002", "userId"},
        {"userId as string", raw(R"({"userId":")" + u + R"(","idempotencyKey":"$KEY"})"), 400, "COMMON002",
         "userId"},
        {"missing idempotencyKey", raw(R"({"userId":)" + u + "}"), 400, "COMMON002", "idempotencyKey"},
        {"blank idempotencyKey", raw(R"({"userId":)" + u + R"(,"idempotencyKey":"  "})"), 400, "COMMON002",
         "idempotencyKey"},
        {"idempotencyKey as number", raw(R"({"userId":)" + u + R"(,"idempotencyKey":42})"), 400, "COMMON002",
         "idempotencyKey"},
        {"idempotencyKey of 101 chars",
         [&](HttpClient& c, const std::string&) { return c.post(path, payment_body(user, key101)); }, 400,
         "COMMON002", "idempotencyKey"},
        {"non-numeric order id",
         [&](HttpClient& c, const std::string& key) {
             return c.post("/api/orders/abc/payment", payment_body(user, key));
         },
         400, "COMMON002", "orderId"},
        {"malformed JSON", raw(R"({"userId":)"), 400, "COMMON002", ""},
        {"empty body", raw(""), 400, "COMMON002", ""},
        {"text/plain",
         [&](HttpClient& c, const std::string& key) {
             return c.post(path, payment_body(user, key), "text/plain");
         },
         415, "COMMON006", ""},
    };
    const auto state = [&] {
        Snapshot s = snapshot(pg, user, {product}, 0, order);
        s.order +=
            "|" + pg.order_status(paid_order) + "/outbox=" + std::to_string(pg.outbox_rows(paid_order));
        return s;
    };
    run_cases(port(), cases, pg, user, state);

    // The order is still payable.
    HttpClient client(port());
    ASSERT_EQ(client.post(path, payment_body(user, unique_key("pay-finally"))).status, 200);
    EXPECT_EQ(pg.order_status(order), "COMPLETED");
}

// ================================================================================================
// POST /api/orders/complete

TEST_F(OrdersE2E, CompleteCreatesAndPaysInOneCall) {
    constexpr std::int64_t user = 5430;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 40'000);
    const std::int64_t product = pg.insert_product(1'999, 10);
    const std::int64_t coupon = pg.insert_coupon(33, 10);
    issue(client, coupon, user);
    const std::int64_t max_before = pg.max_order_id(user);

    // 3 x 1,999 = 5,997; 33% = 1,979.01 -> 1,979; total 4,018.
    const auto r = client.post(kComplete, order_body(user, {{product, 3}}, coupon, unique_key("complete")));
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_keys(v, {"order", "payment"}));
    ASSERT_TRUE(expect_order_shape(v.at("order")));
    ASSERT_TRUE(expect_payment_shape(v.at("payment")));
    const auto& o = v.at("order");
    const auto& p = v.at("payment");
    const std::int64_t order = as_i64(o.at("orderId"));
    EXPECT_GT(order, max_before);
    EXPECT_EQ(str(o.at("status")), "COMPLETED");
    EXPECT_EQ(as_i64(o.at("userId")), user);
    EXPECT_EQ(as_i64(o.at("subtotalAmount")), 5'997);
    EXPECT_EQ(as_i64(o.at("discountAmount")), 1'979);
    EXPECT_EQ(as_i64(o.at("totalAmount")), 4'018);
    EXPECT_EQ(as_i64(p.at("orderId")), order);
    EXPECT_EQ(as_i64(p.at("paidAmount")), 4'018);
    EXPECT_EQ(as_i64(p.at("remainingBalance")), 40'000 - 4'018);
    EXPECT_EQ(str(p.at("paidAt")), pg.local_ts("orders", "paid_at", order));
    EXPECT_EQ(str(o.at("createdAt")), pg.local_ts("orders", "created_at", order));

    EXPECT_EQ(pg.order_rows(user), pg.int64("SELECT count(*) FROM orders WHERE user_id = $1 AND id <= $2",
                                            {std::to_string(user), std::to_string(max_before)}) +
                                       1);
    EXPECT_EQ(pg.balance(user), 40'000 - 4'018);
    EXPECT_EQ(pg.stock(product), 7);
    EXPECT_EQ(pg.user_coupon_status(user, coupon), "USED");
    EXPECT_EQ(pg.order_status(order), "COMPLETED");
    EXPECT_TRUE(pg.order_paid_at_set(order));
    EXPECT_EQ(pg.outbox_rows(order), 1);

    const auto got = client.get(order_path(order));
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.json(), o) << got.body;
}

TEST_F(OrdersE2E, CompleteWithoutIdempotencyKeyWorks) {
    constexpr std::int64_t user = 5431;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 10'000);
    const std::int64_t product = pg.insert_product(600, 10);
    const auto body = bj::serialize(bj::object{{"userId", user}, {"items", items_json({{product, 2}})}});

    const auto r = client.post(kComplete, body);
    ASSERT_EQ(r.status, 201) << r.body;
    const auto v = r.json();
    ASSERT_TRUE(expect_keys(v, {"order", "payment"}));
    ASSERT_TRUE(expect_order_shape(v.at("order")));
    ASSERT_TRUE(expect_payment_shape(v.at("payment")));
    EXPECT_EQ(str(v.at("order").at("status")), "COMPLETED");
    EXPECT_EQ(as_i64(v.at("payment").at("paidAmount")), 1'200);
    EXPECT_EQ(pg.balance(user), 8'800);
    EXPECT_EQ(pg.stock(product), 8);
    EXPECT_EQ(pg.outbox_rows(as_i64(v.at("order").at("orderId"))), 1);

    // Each call without a key is a new purchase.
    const auto again = client.post(kComplete, body);
    ASSERT_EQ(again.status, 201) << again.body;
    EXPECT_NE(as_i64(again.json().at("order").at("orderId")), as_i64(v.at("order").at("orderId")));
    EXPECT_EQ(pg.balance(user), 7'600);
}

TEST_F(OrdersE2E, CompleteDeclineLeavesThePendingOrderPayable) {
    constexpr std::int64_t user = 5432;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 20'000);
    const std::int64_t product = pg.insert_product(1'000, 10);
    const std::int64_t coupon = pg.insert_coupon(10, 10);
    issue(client, coupon, user);
    const std::int64_t max_before = pg.max_order_id(user);
    const std::int64_t orders_before = pg.order_rows(user);

    const auto r =
        client.post(kComplete, order_body(user, {{product, 4}}, coupon, unique_key("complete-FAIL")));
    expect_error(r, 402, "PAY002");
    EXPECT_EQ(pg.balance(user), 20'000);
    EXPECT_EQ(pg.stock(product), 10);
    EXPECT_EQ(pg.user_coupon_status(user, coupon), "AVAILABLE");
    ASSERT_EQ(pg.order_rows(user), orders_before + 1) << "the created order must stay";
    const std::int64_t order = pg.max_order_id(user);
    ASSERT_GT(order, max_before);
    EXPECT_EQ(pg.order_status(order), "PENDING");
    EXPECT_FALSE(pg.order_paid_at_set(order));
    EXPECT_EQ(pg.outbox_rows(order), 0);
    const auto got = client.get(order_path(order));
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(str(got.json().at("status")), "PENDING");
    EXPECT_EQ(as_i64(got.json().at("totalAmount")), 3'600);

    const auto paid = client.post(payment_path(order), payment_body(user, unique_key("complete-then-pay")));
    ASSERT_EQ(paid.status, 200) << paid.body;
    EXPECT_EQ(pg.balance(user), 20'000 - 3'600);
    EXPECT_EQ(pg.stock(product), 6);
    EXPECT_EQ(pg.user_coupon_status(user, coupon), "USED");
    EXPECT_EQ(pg.order_status(order), "COMPLETED");
    EXPECT_EQ(pg.outbox_rows(order), 1);
}

TEST_F(OrdersE2E, CompleteRejectsBadInputAndWritesNothing) {
    constexpr std::int64_t user = 5433;
    CommercePg pg;
    pg.set_balance(user, 20'000);
    const std::int64_t product = pg.insert_product(1'000, 5);
    const std::string u = std::to_string(user);
    auto raw = [](const std::string& body) {
        return [body](HttpClient& c, const std::string& key) {
            std::string b = body;
            for (auto pos = b.find("$KEY"); pos != std::string::npos; pos = b.find("$KEY"))
                b.replace(pos, 4, key);
            return c.post(kComplete, b);
        };
    };
    auto lines = [&](std::int64_t uid, Lines l, std::optional<std::int64_t> coupon = std::nullopt) {
        return [=](HttpClient& c, const std::string& key) {
            return c.post(kComplete, order_body(uid, l, coupon, key));
        };
    };
    const std::vector<Case> cases = {
        {"missing userId",
         raw(R"({"items":[{"productId":)" + std::to_string(product) + R"(,"quantity":1}]})"), 400,
         "COMMON002", "userId"},
        {"missing items", raw(R"({"userId":)" + u + R"(,"idempotencyKey":"$KEY"})"), 400, "COMMON002",
         "items"},
        {"empty items", raw(R"({"userId":)" + u + R"(,"items":[],"idempotencyKey":"$KEY"})"), 400,
         "COMMON002", "items"},
        {"malformed JSON", raw("{"), 400, "COMMON002", ""},
        {"quantity 0", lines(user, {{product, 0}}), 400, "O001", ""},
        {"unknown user", lines(kUnknownId, {{product, 1}}), 404, "U001", std::to_string(kUnknownId)},
        {"unknown product", lines(user, {{kUnknownId, 1}}), 404, "P001", std::to_string(kUnknownId)},
        {"quantity above stock", lines(user, {{product, 6}}), 409, "P002", ""},
        {"unknown coupon", lines(user, {{product, 1}}, kUnknownId), 400, "C002", ""},
        {"text/plain",
         [&](HttpClient& c, const std::string& key) {
             return c.post(kComplete, order_body(user, {{product, 1}}, std::nullopt, key), "text/plain");
         },
         415, "COMMON006", ""},
    };
    run_cases(port(), cases, pg, user, [&] { return snapshot(pg, user, {product}); });

    // The payment half's refusal: balance too low. Balance and stock stay as they were.
    pg.set_balance(user, 999);
    HttpClient client(port());
    expect_error(
        client.post(kComplete, order_body(user, {{product, 1}}, std::nullopt, unique_key("complete-poor"))),
        409, "PAY001");
    EXPECT_EQ(pg.balance(user), 999);
    EXPECT_EQ(pg.stock(product), 5);
}

// ================================================================================================
// GET /api/orders, GET /api/orders/{orderId}

TEST_F(OrdersE2E, ListOrdersNewestFirstWithStatusFilter) {
    constexpr std::int64_t user = 5440;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 50'000);
    const std::int64_t product = pg.insert_product(100, 100);
    const std::int64_t o1 = create_order(client, user, {{product, 1}});
    const std::int64_t o2 = create_order(client, user, {{product, 2}});
    const std::int64_t o3 = create_order(client, user, {{product, 3}});
    ASSERT_TRUE(o1 != 0 && o2 != 0 && o3 != 0);
    ASSERT_EQ(client.post(payment_path(o2), payment_body(user, unique_key("list-pay"))).status, 200);

    auto list = [&](const std::string& status) {
        const auto r = client.get(orders_path(user, status));
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
        const auto v = r.json();
        EXPECT_TRUE(expect_keys(v, {"orders", "totalCount"}));
        EXPECT_TRUE(is_integer(v.at("totalCount"))) << r.body;
        EXPECT_EQ(as_i64(v.at("totalCount")), static_cast<std::int64_t>(v.at("orders").as_array().size()))
            << r.body;
        for (const auto& o : v.at("orders").as_array()) {
            expect_order_shape(o);
            EXPECT_EQ(as_i64(o.at("userId")), user);
        }
        return v.at("orders");
    };

    {
        const auto all = list("");
        EXPECT_EQ(index_of(all, "orderId", o3), 0) << "newest first: " << bj::serialize(all);
        EXPECT_EQ(index_of(all, "orderId", o2), 1);
        EXPECT_EQ(index_of(all, "orderId", o1), 2);
        const auto* paid = find_by(all, "orderId", o2);
        const auto* pending = find_by(all, "orderId", o1);
        ASSERT_NE(paid, nullptr);
        ASSERT_NE(pending, nullptr);
        EXPECT_EQ(str(paid->at("status")), "COMPLETED");
        EXPECT_EQ(str(pending->at("status")), "PENDING");
        // Each entry is the order as GET /api/orders/{id} shows it.
        const auto one = client.get(order_path(o2));
        ASSERT_EQ(one.status, 200) << one.body;
        EXPECT_EQ(*paid, one.json());
    }
    for (const std::string s : {"PENDING", "pending", "Pending"}) {
        SCOPED_TRACE("status=" + s);
        const auto pending = list(s);
        for (const auto& o : pending.as_array()) EXPECT_EQ(str(o.at("status")), "PENDING");
        EXPECT_EQ(index_of(pending, "orderId", o3), 0);
        EXPECT_EQ(index_of(pending, "orderId", o1), 1);
        EXPECT_EQ(index_of(pending, "orderId", o2), -1);
    }
    for (const std::string s : {"COMPLETED", "completed"}) {
        SCOPED_TRACE("status=" + s);
        const auto completed = list(s);
        for (const auto& o : completed.as_array()) EXPECT_EQ(str(o.at("status")), "COMPLETED");
        EXPECT_EQ(index_of(completed, "orderId", o2), 0);
        EXPECT_EQ(index_of(completed, "orderId", o1), -1);
    }
    {
        const auto cancelled = list("CANCELLED");
        for (const auto& o : cancelled.as_array()) EXPECT_EQ(str(o.at("status")), "CANCELLED");
        EXPECT_EQ(index_of(cancelled, "orderId", o1), -1);
    }
}

TEST_F(OrdersE2E, UserWithoutOrdersGetsAnEmptyList) {
    constexpr std::int64_t user = 5441;  // never orders anything in these tests
    CommercePg pg;
    HttpClient client(port());
    ASSERT_EQ(pg.order_rows(user), 0) << "user 5441 is reserved for the empty-list case";
    const auto r = client.get(orders_path(user));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json(), bj::parse(R"({"orders":[],"totalCount":0})")) << r.body;
    const auto p = client.get(orders_path(user, "PENDING"));
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_EQ(p.json(), bj::parse(R"({"orders":[],"totalCount":0})")) << p.body;
}

TEST_F(OrdersE2E, ListOrdersRejectsBadInput) {
    HttpClient client(port());
    expect_error(client.get(kOrders), 400, "COMMON002");
    expect_error(client.get(kOrders + "?userId="), 400, "COMMON002");
    expect_error(client.get(kOrders + "?userId=abc"), 400, "COMMON002");
    expect_error(client.get(kOrders + "?status=PENDING"), 400, "COMMON002");
    for (const std::string s : {"SHIPPED", "PAID", "pendingx", "ALL"}) {
        SCOPED_TRACE("status=" + s);
        expect_error(client.get(orders_path(5442, s)), 400, "COMMON002");
    }
    const auto unknown = client.get(orders_path(kUnknownId));
    expect_error(unknown, 404, "U001");
    EXPECT_NE(error_message(unknown).find(std::to_string(kUnknownId)), std::string::npos) << unknown.body;
}

TEST_F(OrdersE2E, GetOrderShowsTheCurrentStatus) {
    constexpr std::int64_t user = 5443;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 10'000);
    const std::int64_t a = pg.insert_product(400, 10);
    const std::int64_t b = pg.insert_product(300, 10);
    const auto created =
        client.post(kOrders, order_body(user, {{b, 1}, {a, 2}}, std::nullopt, unique_key("get")));
    ASSERT_EQ(created.status, 201) << created.body;
    const std::int64_t order = as_i64(created.json().at("orderId"));

    const auto r = client.get(order_path(order));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    ASSERT_TRUE(expect_order_shape(r.json()));
    EXPECT_EQ(r.json(), created.json()) << "the order as created";

    ASSERT_EQ(client.post(payment_path(order), payment_body(user, unique_key("get-pay"))).status, 200);
    const auto after = client.get(order_path(order));
    ASSERT_EQ(after.status, 200) << after.body;
    ASSERT_TRUE(expect_order_shape(after.json()));
    EXPECT_EQ(str(after.json().at("status")), "COMPLETED");
    bj::value expected = created.json();
    expected.as_object()["status"] = "COMPLETED";
    EXPECT_EQ(after.json(), expected) << "only the status changes";
}

TEST_F(OrdersE2E, GetUnknownOrderIsO002) {
    HttpClient client(port());
    const auto r = client.get(order_path(kUnknownId));
    expect_error(r, 404, "O002");
    EXPECT_NE(error_message(r).find(std::to_string(kUnknownId)), std::string::npos) << r.body;
    expect_error(client.get("/api/orders/abc"), 400, "COMMON002");
    expect_error(client.get("/api/orders/99999999999999999999"), 400, "COMMON002");
}

}  // namespace
}  // namespace ec::e2e
