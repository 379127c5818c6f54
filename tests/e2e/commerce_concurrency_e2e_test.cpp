// Concurrency of the commerce API (issue 3 CONTRACT.md, SPEC §8) over real HTTP: payments racing
// for the last units of stock, for one order and for one coupon; concurrent coupon issues and cart
// adds; a random mix of charges, orders and payments over many users and products; the
// compensation of a declined payment; one declining payment key, one order key sent many times at
// once; /api/orders/complete racing for the last units. Every test checks the database afterwards,
// exactly, and no response may be 5xx.
//
// Users 3000-4999 belong to this file (balances are set with SQL at the start of each test).
// Products and coupons are inserted fresh by each test, so counts over "orders of this product" or
// "user coupons of this coupon" only ever see this run's rows.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include "e2e/commerce_support.hpp"
#include "e2e/e2e_support.hpp"

namespace ec::e2e {
namespace {

namespace bj = boost::json;

// User ranges of this file.
constexpr std::int64_t kBuyersFirst = 3000;      // 3000-3199: 200 buyers of 100 units
constexpr std::int64_t kManyKeysUser = 3200;     // one order, 50 keys
constexpr std::int64_t kOneKeyUser = 3201;       // one order, one key 50 times
constexpr std::int64_t kCouponUser = 3202;       // one coupon on 20 orders
constexpr std::int64_t kIssueFirst = 3300;       // 3300-3599: 300 issuers of 100 coupons
constexpr std::int64_t kSameIssuer = 3600;       // one user issuing one coupon 20 times
constexpr std::int64_t kCartUser = 3601;         // 50 concurrent cart adds
constexpr std::int64_t kMixFirst = 3700;         // 3700-3749: random mix
constexpr std::int64_t kDeclineUser = 3750;      // declined payment with a coupon
constexpr std::int64_t kDeclineTwinUser = 3751;  // one declining key 20 times at once
constexpr std::int64_t kOrderKeyUser = 3752;     // one order key 20 times at once
constexpr std::int64_t kCompleteFirst = 3800;    // 3800-3999: 200 buyers via /api/orders/complete

// ------------------------------------------------------------------------------------------------
// Database set-up and inspection

// "{1,2,3}": a bigint[] parameter.
std::string id_array(const std::vector<std::int64_t>& ids) {
    std::string s = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) s += ",";
        s += std::to_string(ids[i]);
    }
    return s + "}";
}

class CommercePg : public Pg {
public:
    std::int64_t insert_product(std::int64_t price, int stock) {
        const std::string code = unique_code("K");
        return int64(
            "INSERT INTO products (product_code, name, description, price, category, stock) "
            "VALUES ($1, $2, 'concurrency e2e', $3, 'conc-e2e', $4) RETURNING id",
            {code, "Conc " + code, std::to_string(price), std::to_string(stock)});
    }
    // Valid from a day ago to a week ahead.
    std::int64_t insert_coupon(int rate, int total) {
        const std::string code = unique_code("Q");
        return int64(
            "INSERT INTO coupons (coupon_code, name, discount_rate, total_quantity, start_date, end_date) "
            "VALUES ($1, $2, $3, $4, now() - interval '1 day', now() + interval '7 days') RETURNING id",
            {code, "Conc coupon " + code, std::to_string(rate), std::to_string(total)});
    }
    void set_balance(std::int64_t first_user, std::int64_t last_user, std::int64_t balance) {
        const auto n = int64(
            "WITH u AS (UPDATE users SET balance = $1 WHERE id BETWEEN $2 AND $3 RETURNING 1) "
            "SELECT count(*) FROM u",
            {std::to_string(balance), std::to_string(first_user), std::to_string(last_user)});
        if (n != last_user - first_user + 1) {
            throw std::runtime_error("users " + std::to_string(first_user) + "-" + std::to_string(last_user) +
                                     " do not all exist");
        }
    }
    void set_balance(std::int64_t user, std::int64_t balance) { set_balance(user, user, balance); }
    std::int64_t stock(std::int64_t product) {
        return int64("SELECT stock FROM products WHERE id = $1", {std::to_string(product)});
    }
    std::string text(const std::string& sql, const std::vector<std::string>& params = {}) {
        return scalar(sql, params).value_or("<null>");
    }
    std::string order_status(std::int64_t order) {
        return text("SELECT status FROM orders WHERE id = $1", {std::to_string(order)});
    }
    std::int64_t outbox_rows(const std::vector<std::int64_t>& orders) {
        return int64(
            "SELECT count(*) FROM outbox_events WHERE event_type = 'OrderCompleted' AND "
            "aggregate_id = ANY($1::bigint[])",
            {id_array(orders)});
    }
    std::int64_t orders_with_status(const std::vector<std::int64_t>& orders, const std::string& status) {
        return int64("SELECT count(*) FROM orders WHERE id = ANY($1::bigint[]) AND status = $2",
                     {id_array(orders), status});
    }
    std::int64_t payment_rows_with_prefix(std::int64_t user, const std::string& prefix) {
        return int64(
            "SELECT count(*) FROM idempotency_records WHERE user_id = $1 AND operation = 'PAYMENT' AND "
            "starts_with(idempotency_key, $2)",
            {std::to_string(user), prefix});
    }
};

// ------------------------------------------------------------------------------------------------
// Requests

constexpr const char* kOrdersPath = "/api/orders";
constexpr const char* kCartItemsPath = "/api/cart/items";

// The error code of an error body, "" otherwise.
std::string error_code(const HttpResponse& r) {
    try {
        const auto v = r.json();
        if (v.is_object() && v.as_object().contains("code") && v.at("code").is_string()) {
            return std::string(v.at("code").as_string());
        }
    } catch (const std::exception&) {
    }
    return {};
}

// "200", "409 P002", ...
std::string outcome(const HttpResponse& r) {
    if (r.status < 400) return std::to_string(r.status);
    return std::to_string(r.status) + " " + error_code(r);
}

std::map<std::string, int> tally(const std::vector<HttpResponse>& responses) {
    std::map<std::string, int> out;
    for (const auto& r : responses) ++out[outcome(r)];
    return out;
}

std::string show(const std::map<std::string, int>& t) {
    std::string s;
    for (const auto& [k, n] : t) s += (s.empty() ? "" : ", ") + std::to_string(n) + " x " + k;
    return "{" + s + "}";
}

int server_errors(const std::vector<HttpResponse>& responses) {
    return static_cast<int>(std::count_if(responses.begin(), responses.end(),
                                          [](const HttpResponse& r) { return r.status >= 500; }));
}

std::int64_t field(const HttpResponse& r, const char* name) {
    return as_i64(r.json().at(name));
}

// Checks a 200 payment receipt.
void expect_receipt(const HttpResponse& r, std::int64_t order, std::int64_t paid, std::int64_t remaining) {
    ASSERT_EQ(r.status, 200) << r.body;
    const auto v = r.json();
    ASSERT_TRUE(v.is_object()) << r.body;
    const auto& o = v.as_object();
    EXPECT_EQ(o.size(), 6u) << r.body;
    EXPECT_EQ(as_i64(o.at("orderId")), order) << r.body;
    EXPECT_EQ(as_i64(o.at("paidAmount")), paid) << r.body;
    EXPECT_EQ(as_i64(o.at("remainingBalance")), remaining) << r.body;
    EXPECT_EQ(o.at("status").as_string(), "SUCCESS") << r.body;
    EXPECT_TRUE(std::string(o.at("dataTransmission").as_string()).starts_with("PG_APPROVED: MOCK_TX_"))
        << r.body;
    EXPECT_TRUE(is_local_datetime_micros(std::string(o.at("paidAt").as_string()))) << r.body;
}

// ------------------------------------------------------------------------------------------------

class CommerceConcurrencyE2E : public ServerSuite<CommerceConcurrencyE2E> {
protected:
    // Products inserted with SQL reach the in-process catalogue within products.cache-ttl (200 ms in
    // the test profile): wait until the API shows the product with the given stock.
    static ::testing::AssertionResult product_visible(std::int64_t product, int stock) {
        HttpClient c(port());
        const auto deadline = std::chrono::steady_clock::now() + 3s;
        HttpResponse last;
        while (std::chrono::steady_clock::now() < deadline) {
            last = c.get("/api/products/" + std::to_string(product));
            if (last.status == 200 && as_i64(last.json().at("stock")) == stock) {
                return ::testing::AssertionSuccess();
            }
            std::this_thread::sleep_for(50ms);
        }
        return ::testing::AssertionFailure() << "product " << product << " not visible with stock " << stock
                                             << ": " << last.status << " " << last.body;
    }

    // Creates an order (201 expected) and returns the response.
    static HttpResponse create_order(HttpClient& c, std::int64_t user, const Lines& lines,
                                     std::optional<std::int64_t> coupon = std::nullopt) {
        return c.post(kOrdersPath, order_body(user, lines, coupon, unique_key("cc-order")));
    }

    // A deadlock or serialization failure would show up in the server log even if it were mapped
    // to a 4xx.
    static void expect_no_deadlock_in_log() {
        std::string log = server().log();
        std::transform(log.begin(), log.end(), log.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        EXPECT_EQ(log.find("deadlock"), std::string::npos) << server().log_tail(40);
        EXPECT_EQ(log.find("40p01"), std::string::npos) << server().log_tail(40);
    }
};

// 1. 200 buyers, 100 units: exactly 100 payments succeed, the rest get 409 P002, stock ends at 0,
//    each winner paid exactly once, each loser untouched.
TEST_F(CommerceConcurrencyE2E, HundredUnitsGoToExactlyHundredOfTwoHundredBuyers) {
    constexpr int n = 200;
    constexpr int units = 100;
    constexpr std::int64_t price = 1'234;
    constexpr std::int64_t initial = 1'000'000;
    CommercePg pg;
    pg.set_balance(kBuyersFirst, kBuyersFirst + n - 1, initial);
    const std::int64_t product = pg.insert_product(price, units);
    ASSERT_TRUE(product_visible(product, units));

    // Creation only checks stock: all 200 orders are created.
    const auto created = parallel(port(), n, [&](int i, HttpClient& c) {
        return create_order(c, kBuyersFirst + i, {{product, 1}});
    });
    std::vector<std::int64_t> orders;
    for (int i = 0; i < n; ++i) {
        const auto& r = created[static_cast<size_t>(i)];
        ASSERT_EQ(r.status, 201) << "order " << i << ": " << r.body;
        EXPECT_EQ(field(r, "totalAmount"), price) << r.body;
        orders.push_back(field(r, "orderId"));
    }
    ASSERT_EQ(std::set<std::int64_t>(orders.begin(), orders.end()).size(), static_cast<size_t>(n));
    EXPECT_EQ(pg.stock(product), units) << "order creation must not take stock";

    const std::string prefix = unique_key("cc-race") + "-";
    const auto t0 = std::chrono::steady_clock::now();
    const auto paid = parallel(port(), n, [&](int i, HttpClient& c) {
        return c.post(payment_path(orders[static_cast<size_t>(i)]),
                      payment_body(kBuyersFirst + i, prefix + std::to_string(i)));
    });
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    RecordProperty("payments_ms",
                   static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));

    const auto t = tally(paid);
    EXPECT_EQ(server_errors(paid), 0) << show(t);
    EXPECT_EQ(t.size(), 2u) << show(t);
    EXPECT_EQ(t.count("200") ? t.at("200") : 0, units) << show(t);
    EXPECT_EQ(t.count("409 P002") ? t.at("409 P002") : 0, n - units) << show(t);

    std::vector<std::int64_t> winners;
    std::vector<std::int64_t> losers;
    for (int i = 0; i < n; ++i) {
        const auto& r = paid[static_cast<size_t>(i)];
        const std::int64_t user = kBuyersFirst + i;
        const std::int64_t order = orders[static_cast<size_t>(i)];
        if (r.status == 200) {
            winners.push_back(order);
            expect_receipt(r, order, price, initial - price);
            EXPECT_EQ(pg.balance(user), initial - price) << "winner " << user;
        } else {
            losers.push_back(order);
            expect_error(r, 409, "P002");
            EXPECT_EQ(pg.balance(user), initial) << "loser " << user;
        }
    }

    EXPECT_EQ(pg.stock(product), 0);
    EXPECT_EQ(
        pg.int64("SELECT count(*) FROM orders o WHERE o.status = 'COMPLETED' AND o.paid_at IS NOT NULL AND "
                 "o.id IN (SELECT order_id FROM order_items WHERE product_id = $1)",
                 {std::to_string(product)}),
        units);
    EXPECT_EQ(pg.orders_with_status(winners, "COMPLETED"), static_cast<std::int64_t>(winners.size()));
    EXPECT_EQ(pg.orders_with_status(losers, "PENDING"), static_cast<std::int64_t>(losers.size()));
    EXPECT_EQ(pg.int64("SELECT count(*) FROM orders WHERE id = ANY($1::bigint[]) AND payment_key IS NOT NULL",
                       {id_array(orders)}),
              0);
    EXPECT_EQ(pg.outbox_rows(orders), units);
    EXPECT_EQ(pg.outbox_rows(winners), units);

    HttpClient c(port());
    const auto p = c.get("/api/products/" + std::to_string(product));
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_EQ(field(p, "stock"), 0) << "payments must update the catalogue at once: " << p.body;
}

// 2a. One order, 50 payments with 50 different keys: paid exactly once; the others are refused
//     with 409 PAY003 (while the winner is in flight) or 400 O003 (after it completed).
TEST_F(CommerceConcurrencyE2E, OneOrderPaidWithFiftyKeysIsPaidOnce) {
    constexpr int n = 50;
    constexpr std::int64_t user = kManyKeysUser;
    constexpr std::int64_t price = 2'000;
    constexpr int stock = 50;
    constexpr int quantity = 3;
    constexpr std::int64_t total = price * quantity;
    constexpr std::int64_t initial = 1'000'000;
    CommercePg pg;
    pg.set_balance(user, initial);
    const std::int64_t product = pg.insert_product(price, stock);
    ASSERT_TRUE(product_visible(product, stock));
    HttpClient client(port());
    const auto created = create_order(client, user, {{product, quantity}});
    ASSERT_EQ(created.status, 201) << created.body;
    const std::int64_t order = field(created, "orderId");
    ASSERT_EQ(field(created, "totalAmount"), total);

    const std::string prefix = unique_key("cc-keys") + "-";
    const auto paid = parallel(port(), n, [&](int i, HttpClient& c) {
        return c.post(payment_path(order), payment_body(user, prefix + std::to_string(i)));
    });

    const auto t = tally(paid);
    EXPECT_EQ(server_errors(paid), 0) << show(t);
    EXPECT_EQ(t.count("200") ? t.at("200") : 0, 1) << show(t);
    for (int i = 0; i < n; ++i) {
        const auto& r = paid[static_cast<size_t>(i)];
        if (r.status == 200) {
            expect_receipt(r, order, total, initial - total);
        } else if (r.status == 409) {
            expect_error(r, 409, "PAY003");
        } else {
            expect_error(r, 400, "O003");
        }
    }

    EXPECT_EQ(pg.balance(user), initial - total);
    EXPECT_EQ(pg.stock(product), stock - quantity);
    EXPECT_EQ(pg.order_status(order), "COMPLETED");
    EXPECT_EQ(pg.outbox_rows({order}), 1);
    EXPECT_EQ(pg.payment_rows_with_prefix(user, prefix), 1) << "only the winner's key is recorded";
    EXPECT_EQ(pg.text("SELECT payment_key IS NULL FROM orders WHERE id = $1", {std::to_string(order)}), "t");

    const auto g = client.get("/api/orders/" + std::to_string(order));
    ASSERT_EQ(g.status, 200) << g.body;
    EXPECT_EQ(g.json().at("status").as_string(), "COMPLETED") << g.body;
}

// 2b. One order, one key, 50 concurrent requests: all 200 with byte-identical bodies, one effect.
TEST_F(CommerceConcurrencyE2E, OneOrderPaidFiftyTimesWithOneKeyIsPaidOnceAndAllGetTheSameBody) {
    constexpr int n = 50;
    constexpr std::int64_t user = kOneKeyUser;
    constexpr std::int64_t price = 1'500;
    constexpr int stock = 40;
    constexpr int quantity = 2;
    constexpr std::int64_t total = price * quantity;
    constexpr std::int64_t initial = 500'000;
    CommercePg pg;
    pg.set_balance(user, initial);
    const std::int64_t product = pg.insert_product(price, stock);
    ASSERT_TRUE(product_visible(product, stock));
    HttpClient client(port());
    const auto created = create_order(client, user, {{product, quantity}});
    ASSERT_EQ(created.status, 201) << created.body;
    const std::int64_t order = field(created, "orderId");

    const std::string key = unique_key("cc-onekey");
    const auto paid = parallel(
        port(), n, [&](int, HttpClient& c) { return c.post(payment_path(order), payment_body(user, key)); });

    const auto t = tally(paid);
    EXPECT_EQ(server_errors(paid), 0) << show(t);
    EXPECT_EQ(t.count("200") ? t.at("200") : 0, n) << show(t);
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(paid[static_cast<size_t>(i)].body, paid[0].body) << "request " << i;
    }
    expect_receipt(paid[0], order, total, initial - total);

    EXPECT_EQ(pg.balance(user), initial - total);
    EXPECT_EQ(pg.stock(product), stock - quantity);
    EXPECT_EQ(pg.order_status(order), "COMPLETED");
    EXPECT_EQ(pg.outbox_rows({order}), 1);
    EXPECT_EQ(
        pg.int64("SELECT count(*) FROM idempotency_records WHERE user_id = $1 AND idempotency_key = $2 AND "
                 "operation = 'PAYMENT'",
                 {std::to_string(user), key}),
        1);
    EXPECT_EQ(pg.idempotency_rows(user, key), 1);

    // A later replay answers the same body too.
    const auto again = client.post(payment_path(order), payment_body(user, key));
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.body, paid[0].body);
    EXPECT_EQ(pg.balance(user), initial - total);
}

// 3. One coupon on 20 PENDING orders of its owner, all paid at once: the coupon is used exactly
//    once, by the one successful payment; the others get 400 C002.
TEST_F(CommerceConcurrencyE2E, OneCouponOnTwentyOrdersIsUsedByExactlyOnePayment) {
    constexpr int n = 20;
    constexpr std::int64_t user = kCouponUser;
    constexpr std::int64_t price = 1'000;
    constexpr int stock = 10'000;
    constexpr std::int64_t initial = 10'000'000;
    CommercePg pg;
    pg.set_balance(user, initial);
    const std::int64_t product = pg.insert_product(price, stock);
    const std::int64_t coupon = pg.insert_coupon(10, 10);
    ASSERT_TRUE(product_visible(product, stock));
    HttpClient client(port());
    const auto issued = client.post(issue_path(coupon), user_id_body(user));
    ASSERT_EQ(issued.status, 200) << issued.body;

    // Order i has quantity i+1, so every order has a different total.
    std::vector<std::int64_t> orders;
    std::map<std::int64_t, std::int64_t> total_of;
    std::map<std::int64_t, int> quantity_of;
    for (int i = 0; i < n; ++i) {
        const auto r = create_order(client, user, {{product, i + 1}}, coupon);
        ASSERT_EQ(r.status, 201) << "order " << i << ": " << r.body;
        const std::int64_t subtotal = price * (i + 1);
        EXPECT_EQ(field(r, "subtotalAmount"), subtotal) << r.body;
        EXPECT_EQ(field(r, "discountAmount"), subtotal / 10) << r.body;
        EXPECT_EQ(field(r, "totalAmount"), subtotal - subtotal / 10) << r.body;
        const std::int64_t id = field(r, "orderId");
        orders.push_back(id);
        total_of[id] = field(r, "totalAmount");
        quantity_of[id] = i + 1;
    }

    const std::string prefix = unique_key("cc-coupon") + "-";
    const auto paid = parallel(port(), n, [&](int i, HttpClient& c) {
        return c.post(payment_path(orders[static_cast<size_t>(i)]),
                      payment_body(user, prefix + std::to_string(i)));
    });

    const auto t = tally(paid);
    EXPECT_EQ(server_errors(paid), 0) << show(t);
    EXPECT_EQ(t.count("200") ? t.at("200") : 0, 1) << show(t);
    EXPECT_EQ(t.count("400 C002") ? t.at("400 C002") : 0, n - 1) << show(t);
    std::optional<std::int64_t> winner;
    for (int i = 0; i < n; ++i) {
        const auto& r = paid[static_cast<size_t>(i)];
        const std::int64_t order = orders[static_cast<size_t>(i)];
        if (r.status == 200) {
            winner = order;
            expect_receipt(r, order, total_of[order], initial - total_of[order]);
        } else {
            expect_error(r, 400, "C002");
        }
    }
    ASSERT_TRUE(winner.has_value()) << show(t);

    EXPECT_EQ(pg.balance(user), initial - total_of[*winner]);
    EXPECT_EQ(pg.stock(product), stock - quantity_of[*winner]);
    const std::vector<std::string> uc = {std::to_string(user), std::to_string(coupon)};
    EXPECT_EQ(pg.int64("SELECT count(*) FROM user_coupons WHERE user_id = $1 AND coupon_id = $2", uc), 1);
    EXPECT_EQ(pg.text("SELECT status FROM user_coupons WHERE user_id = $1 AND coupon_id = $2", uc), "USED");
    EXPECT_EQ(pg.text("SELECT used_order_id FROM user_coupons WHERE user_id = $1 AND coupon_id = $2", uc),
              std::to_string(*winner));
    EXPECT_EQ(
        pg.text("SELECT used_at IS NOT NULL FROM user_coupons WHERE user_id = $1 AND coupon_id = $2", uc),
        "t");
    EXPECT_EQ(pg.order_status(*winner), "COMPLETED");
    EXPECT_EQ(pg.orders_with_status(orders, "PENDING"), n - 1);
    EXPECT_EQ(pg.outbox_rows(orders), 1);
    EXPECT_EQ(pg.outbox_rows({*winner}), 1);
}

// 4a. 300 distinct users issue a 100-unit coupon at once: exactly 100 issued, never more.
TEST_F(CommerceConcurrencyE2E, ThreeHundredUsersIssueAHundredUnitCouponExactlyHundredTimes) {
    constexpr int n = 300;
    constexpr int total = 100;
    CommercePg pg;
    const std::int64_t coupon = pg.insert_coupon(15, total);

    const auto responses = parallel(port(), n, [&](int i, HttpClient& c) {
        return c.post(issue_path(coupon), user_id_body(kIssueFirst + i));
    });

    const auto t = tally(responses);
    EXPECT_EQ(server_errors(responses), 0) << show(t);
    EXPECT_EQ(t.size(), 2u) << show(t);
    EXPECT_EQ(t.count("200") ? t.at("200") : 0, total) << show(t);
    EXPECT_EQ(t.count("409 C001") ? t.at("409 C001") : 0, n - total) << show(t);

    std::vector<std::int64_t> winners;
    std::set<std::int64_t> remaining;
    std::set<std::int64_t> user_coupon_ids;
    for (int i = 0; i < n; ++i) {
        const auto& r = responses[static_cast<size_t>(i)];
        if (r.status == 200) {
            winners.push_back(kIssueFirst + i);
            const auto v = r.json();
            EXPECT_EQ(as_i64(v.at("couponId")), coupon) << r.body;
            EXPECT_EQ(v.at("status").as_string(), "AVAILABLE") << r.body;
            EXPECT_EQ(as_i64(v.at("discountRate")), 15) << r.body;
            remaining.insert(as_i64(v.at("remainingQuantity")));
            user_coupon_ids.insert(as_i64(v.at("userCouponId")));
        } else {
            expect_error(r, 409, "C001");
        }
    }
    // Issues are serialised on the coupon row: each saw a different remaining count, 99 down to 0.
    EXPECT_EQ(remaining.size(), winners.size());
    if (!remaining.empty()) {
        EXPECT_EQ(*remaining.begin(), 0);
        EXPECT_EQ(*remaining.rbegin(), total - 1);
    }
    EXPECT_EQ(user_coupon_ids.size(), winners.size());

    const std::string c = std::to_string(coupon);
    EXPECT_EQ(pg.int64("SELECT issued_quantity FROM coupons WHERE id = $1", {c}), total);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM user_coupons WHERE coupon_id = $1", {c}), total);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM user_coupons WHERE coupon_id = $1 AND status = 'AVAILABLE' AND "
                       "used_at IS NULL AND user_id = ANY($2::bigint[])",
                       {c, id_array(winners)}),
              total)
        << "the rows belong exactly to the users who got 200";
    EXPECT_EQ(pg.int64("SELECT count(DISTINCT user_id) FROM user_coupons WHERE coupon_id = $1", {c}), total);

    HttpClient client(port());
    const auto g = client.get("/api/coupons/" + c);
    ASSERT_EQ(g.status, 200) << g.body;
    EXPECT_EQ(field(g, "issuedQuantity"), total) << g.body;
    EXPECT_EQ(field(g, "remainingQuantity"), 0) << g.body;
}

// 4b. One user issues one coupon 20 times at once: one 200, 19 x 400 C004, one row.
TEST_F(CommerceConcurrencyE2E, OneUserIssuingOneCouponTwentyTimesGetsItOnce) {
    constexpr int n = 20;
    constexpr int total = 10;
    constexpr std::int64_t user = kSameIssuer;
    CommercePg pg;
    const std::int64_t coupon = pg.insert_coupon(5, total);

    const auto responses = parallel(
        port(), n, [&](int, HttpClient& c) { return c.post(issue_path(coupon), user_id_body(user)); });

    const auto t = tally(responses);
    EXPECT_EQ(server_errors(responses), 0) << show(t);
    EXPECT_EQ(t.count("200") ? t.at("200") : 0, 1) << show(t);
    EXPECT_EQ(t.count("400 C004") ? t.at("400 C004") : 0, n - 1) << show(t);
    for (const auto& r : responses) {
        if (r.status == 200) {
            EXPECT_EQ(field(r, "remainingQuantity"), total - 1) << r.body;
        } else {
            expect_error(r, 400, "C004");
        }
    }

    const std::string c = std::to_string(coupon);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM user_coupons WHERE coupon_id = $1", {c}), 1);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM user_coupons WHERE coupon_id = $1 AND user_id = $2",
                       {c, std::to_string(user)}),
              1);
    EXPECT_EQ(pg.int64("SELECT issued_quantity FROM coupons WHERE id = $1", {c}), 1);
}

// 5. 50 concurrent adds of one product to one user's (new) cart: one cart, one line, the exact sum.
TEST_F(CommerceConcurrencyE2E, ConcurrentCartAddsOfOneProductSumUpInOneLine) {
    constexpr int n = 50;
    constexpr int stock = 1'000;
    constexpr std::int64_t price = 700;
    constexpr std::int64_t user = kCartUser;
    auto quantity_of = [](int i) { return 1 + i % 5; };
    int sum = 0;
    for (int i = 0; i < n; ++i) sum += quantity_of(i);

    CommercePg pg;
    // Start without a cart, so the adds also race to create it.
    pg.exec("DELETE FROM carts WHERE user_id = $1", {std::to_string(user)});
    const std::int64_t product = pg.insert_product(price, stock);
    ASSERT_TRUE(product_visible(product, stock));

    const auto responses = parallel(port(), n, [&](int i, HttpClient& c) {
        return c.post(kCartItemsPath, cart_body(user, product, quantity_of(i)));
    });

    const auto t = tally(responses);
    EXPECT_EQ(server_errors(responses), 0) << show(t);
    EXPECT_EQ(t.count("201") ? t.at("201") : 0, n) << show(t);
    // Each response shows the cart as read after its own add committed (not necessarily a snapshot
    // of that add alone: concurrent adds may already be in it), so the line holds at least this
    // add's quantity and at most the total, and the response read last shows the total.
    std::set<std::int64_t> seen;
    for (int i = 0; i < n; ++i) {
        const auto& r = responses[static_cast<size_t>(i)];
        if (r.status != 201) continue;
        const auto v = r.json();
        int lines = 0;
        for (const auto& item : v.at("items").as_array()) {
            if (as_i64(item.at("productId")) == product) {
                ++lines;
                const std::int64_t q = as_i64(item.at("quantity"));
                EXPECT_GE(q, quantity_of(i)) << r.body;
                EXPECT_LE(q, sum) << r.body;
                seen.insert(q);
            }
        }
        EXPECT_EQ(lines, 1) << r.body;
    }
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(*seen.rbegin(), sum);

    const std::string u = std::to_string(user);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM carts WHERE user_id = $1", {u}), 1);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM cart_items ci JOIN carts c ON c.id = ci.cart_id "
                       "WHERE c.user_id = $1 AND ci.product_id = $2",
                       {u, std::to_string(product)}),
              1);
    EXPECT_EQ(pg.int64("SELECT ci.quantity FROM cart_items ci JOIN carts c ON c.id = ci.cart_id "
                       "WHERE c.user_id = $1 AND ci.product_id = $2",
                       {u, std::to_string(product)}),
              sum);
    EXPECT_EQ(
        pg.int64("SELECT count(*) FROM cart_items ci JOIN carts c ON c.id = ci.cart_id WHERE c.user_id = $1",
                 {u}),
        1);
    EXPECT_EQ(pg.stock(product), stock) << "the cart never takes stock";

    HttpClient client(port());
    const auto g = client.get("/api/cart?userId=" + u);
    ASSERT_EQ(g.status, 200) << g.body;
    const auto items = g.json().at("items").as_array();
    ASSERT_EQ(items.size(), 1u) << g.body;
    EXPECT_EQ(as_i64(items[0].at("quantity")), sum) << g.body;
    EXPECT_EQ(as_i64(g.json().at("totalAmount")), price * sum) << g.body;
}

// 6. 100 clients over 50 users and 10 products: charges, orders of 2-4 products in random item
//    order and their payments, all at once. No 5xx (no deadlock), and the books balance exactly.
TEST_F(CommerceConcurrencyE2E, RandomMixOfChargesOrdersAndPaymentsKeepsTheBooksBalanced) {
    constexpr int clients = 100;
    constexpr int users = 50;
    constexpr int products_n = 10;
    constexpr int orders_per_client = 3;
    constexpr int stock = 100'000;
    CommercePg pg;

    std::vector<std::int64_t> products;
    std::map<std::int64_t, std::int64_t> price_of;
    for (int k = 0; k < products_n; ++k) {
        const std::int64_t price = 1'000 + 137 * k;
        const std::int64_t id = pg.insert_product(price, stock);
        products.push_back(id);
        price_of[id] = price;
    }
    // Tight balances: some payments are refused with 409 PAY001, which is fine.
    std::int64_t initial_sum = 0;
    for (int j = 0; j < users; ++j) {
        const std::int64_t b = 20'000 + 1'000 * (j % 30);
        pg.set_balance(kMixFirst + j, b);
        initial_sum += b;
    }
    for (const auto id : products) ASSERT_TRUE(product_visible(id, stock));

    struct ClientLog {
        std::int64_t charged = 0;
        std::int64_t paid = 0;
        int payments_ok = 0;
        int payments_refused = 0;
        std::vector<std::int64_t> orders;
        std::vector<std::string> unexpected;
    };
    std::vector<ClientLog> logs(clients);
    const std::string prefix = unique_key("cc-mix") + "-";
    const unsigned seed = std::random_device{}();
    RecordProperty("seed", static_cast<int>(seed % 1'000'000'000));

    const auto t0 = std::chrono::steady_clock::now();
    parallel(port(), clients, [&](int i, HttpClient& c) {
        auto& log = logs[static_cast<size_t>(i)];
        std::mt19937 rng(seed + static_cast<unsigned>(i));
        const std::int64_t user = kMixFirst + i % users;
        const std::string base = prefix + std::to_string(i) + "-";
        HttpResponse last;
        auto note = [&](const std::string& what, const HttpResponse& r) {
            log.unexpected.push_back(what + ": " + std::to_string(r.status) + " " + r.body);
        };
        auto charge = [&](int n) {
            const std::int64_t amount = 1'000 + static_cast<std::int64_t>(rng() % 20'000);
            last = c.post(charge_path(user), charge_body(amount, base + "c" + std::to_string(n)));
            if (last.status == 200) {
                log.charged += amount;
            } else {
                note("charge", last);
            }
        };
        if (i % 2 == 0) charge(0);
        for (int k = 0; k < orders_per_client; ++k) {
            std::vector<std::int64_t> pick = products;
            std::shuffle(pick.begin(), pick.end(), rng);
            pick.resize(2 + rng() % 3);  // 2-4 distinct products, in random order
            Lines lines;
            std::int64_t total = 0;
            for (const auto id : pick) {
                const int q = 1 + static_cast<int>(rng() % 3);
                lines.push_back({id, q});
                total += price_of.at(id) * q;
            }
            last = c.post(kOrdersPath, order_body(user, lines, std::nullopt, base + "o" + std::to_string(k)));
            if (last.status != 201) {
                note("create", last);
                continue;
            }
            const std::int64_t order = field(last, "orderId");
            log.orders.push_back(order);
            if (field(last, "totalAmount") != total) note("create total " + std::to_string(total), last);
            last = c.post(payment_path(order), payment_body(user, base + "p" + std::to_string(k)));
            if (last.status == 200) {
                ++log.payments_ok;
                log.paid += field(last, "paidAmount");
                if (field(last, "paidAmount") != total) note("pay amount " + std::to_string(total), last);
            } else if (last.status == 409 && error_code(last) == "PAY001") {
                ++log.payments_refused;
            } else {
                note("pay", last);
            }
            if (k == 1 && i % 3 == 0) charge(1);
        }
        return last;
    });
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    RecordProperty("mix_ms",
                   static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));

    std::int64_t charged = 0;
    std::int64_t paid = 0;
    int ok = 0;
    int refused = 0;
    std::vector<std::int64_t> orders;
    for (const auto& log : logs) {
        charged += log.charged;
        paid += log.paid;
        ok += log.payments_ok;
        refused += log.payments_refused;
        orders.insert(orders.end(), log.orders.begin(), log.orders.end());
        for (const auto& u : log.unexpected) ADD_FAILURE() << "unexpected response: " << u;
    }
    EXPECT_EQ(orders.size(), static_cast<size_t>(clients * orders_per_client));
    EXPECT_GT(ok, 0);
    std::cout << "mix: seed " << seed << ", " << ok << " payments ok, " << refused
              << " refused (PAY001), charged " << charged << ", paid " << paid << ", "
              << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";

    const std::string first = std::to_string(kMixFirst);
    const std::string last_user = std::to_string(kMixFirst + users - 1);
    const std::string ids = id_array(orders);
    const std::int64_t balances =
        pg.int64("SELECT sum(balance) FROM users WHERE id BETWEEN $1 AND $2", {first, last_user});
    const std::int64_t completed_total = pg.int64(
        "SELECT coalesce(sum(total_amount), 0) FROM orders WHERE status = 'COMPLETED' AND "
        "user_id BETWEEN $1 AND $2 AND id = ANY($3::bigint[])",
        {first, last_user, ids});
    EXPECT_EQ(balances + completed_total, initial_sum + charged)
        << "balances " << balances << ", completed " << completed_total << ", initial " << initial_sum
        << ", charged " << charged;
    EXPECT_EQ(completed_total, paid);
    EXPECT_EQ(pg.orders_with_status(orders, "COMPLETED"), ok);
    EXPECT_EQ(pg.orders_with_status(orders, "PENDING"), static_cast<std::int64_t>(orders.size()) - ok);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM orders WHERE id = ANY($1::bigint[]) AND payment_key IS NOT NULL",
                       {ids}),
              0)
        << "no payment left in flight";
    EXPECT_EQ(pg.outbox_rows(orders), ok);
    // Every order of these products is one of ours.
    EXPECT_EQ(
        pg.int64("SELECT count(DISTINCT order_id) FROM order_items WHERE product_id = ANY($1::bigint[])",
                 {id_array(products)}),
        static_cast<std::int64_t>(orders.size()));
    EXPECT_EQ(pg.int64("SELECT count(*) FROM idempotency_records WHERE user_id BETWEEN $1 AND $2 AND "
                       "starts_with(idempotency_key, $3) AND status = 'PROCESSING'",
                       {first, last_user, prefix}),
              0);
    for (const auto id : products) {
        const std::string p = std::to_string(id);
        const std::int64_t sold = pg.int64(
            "SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id "
            "WHERE i.product_id = $1 AND o.status = 'COMPLETED'",
            {p});
        EXPECT_EQ(stock - sold, pg.stock(id)) << "product " << id;
    }
    expect_no_deadlock_in_log();
}

// 7. A declined payment (key containing FAIL) of an order with a coupon restores balance, stock
//    and coupon; the order stays PENDING and is then paid once with a new key.
TEST_F(CommerceConcurrencyE2E, DeclinedPaymentWithCouponRestoresEverythingThenPaysOnce) {
    constexpr std::int64_t user = kDeclineUser;
    constexpr std::int64_t price = 3'000;
    constexpr int stock = 20;
    constexpr int quantity = 2;
    constexpr std::int64_t subtotal = price * quantity;
    constexpr std::int64_t discount = subtotal * 10 / 100;
    constexpr std::int64_t total = subtotal - discount;
    constexpr std::int64_t initial = 100'000;
    CommercePg pg;
    pg.set_balance(user, initial);
    const std::int64_t product = pg.insert_product(price, stock);
    const std::int64_t coupon = pg.insert_coupon(10, 5);
    ASSERT_TRUE(product_visible(product, stock));
    HttpClient client(port());
    const auto issued = client.post(issue_path(coupon), user_id_body(user));
    ASSERT_EQ(issued.status, 200) << issued.body;
    const auto created = create_order(client, user, {{product, quantity}}, coupon);
    ASSERT_EQ(created.status, 201) << created.body;
    const std::int64_t order = field(created, "orderId");
    ASSERT_EQ(field(created, "totalAmount"), total) << created.body;
    const std::string o = std::to_string(order);
    const std::vector<std::string> uc = {std::to_string(user), std::to_string(coupon)};
    auto coupon_state = [&] {
        return pg.text(
            "SELECT status || '/' || coalesce(used_at::text, 'null') || '/' || coalesce(used_order_id::text, "
            "'null') "
            "FROM user_coupons WHERE user_id = $1 AND coupon_id = $2",
            uc);
    };
    ASSERT_EQ(coupon_state(), "AVAILABLE/null/null");

    const std::string declined_key = unique_key("cc-pay-FAIL");
    const auto declined = client.post(payment_path(order), payment_body(user, declined_key));
    expect_error(declined, 402, "PAY002");
    EXPECT_EQ(pg.balance(user), initial);
    EXPECT_EQ(pg.stock(product), stock);
    EXPECT_EQ(coupon_state(), "AVAILABLE/null/null");
    EXPECT_EQ(pg.order_status(order), "PENDING");
    EXPECT_EQ(
        pg.text("SELECT (paid_at IS NULL AND payment_key IS NULL)::text FROM orders WHERE id = $1", {o}),
        "true");
    EXPECT_EQ(pg.outbox_rows({order}), 0);
    EXPECT_TRUE(product_visible(product, stock)) << "the compensation shows in the catalogue";

    // Replaying the declined key answers the decline again and changes nothing.
    const auto replayed = client.post(payment_path(order), payment_body(user, declined_key));
    expect_error(replayed, 402, "PAY002");
    EXPECT_EQ(pg.balance(user), initial);
    EXPECT_EQ(pg.stock(product), stock);
    EXPECT_EQ(coupon_state(), "AVAILABLE/null/null");
    EXPECT_EQ(pg.order_status(order), "PENDING");

    const std::string key = unique_key("cc-pay-retry");
    const auto ok = client.post(payment_path(order), payment_body(user, key));
    expect_receipt(ok, order, total, initial - total);
    EXPECT_EQ(pg.balance(user), initial - total);
    EXPECT_EQ(pg.stock(product), stock - quantity);
    EXPECT_EQ(pg.text("SELECT status || '/' || (used_at IS NOT NULL)::text || '/' || used_order_id::text "
                      "FROM user_coupons WHERE user_id = $1 AND coupon_id = $2",
                      uc),
              "USED/true/" + o);
    EXPECT_EQ(pg.order_status(order), "COMPLETED");
    EXPECT_EQ(pg.outbox_rows({order}), 1);

    // Replays after the success: same body for the good key, still the decline for the other; no effect.
    const auto ok_again = client.post(payment_path(order), payment_body(user, key));
    EXPECT_EQ(ok_again.status, 200) << ok_again.body;
    EXPECT_EQ(ok_again.body, ok.body);
    const auto declined_again = client.post(payment_path(order), payment_body(user, declined_key));
    expect_error(declined_again, 402, "PAY002");
    EXPECT_EQ(pg.balance(user), initial - total);
    EXPECT_EQ(pg.stock(product), stock - quantity);
    EXPECT_EQ(pg.outbox_rows({order}), 1);
}

// 8. One declining key sent 20 times at once: every request answers the decline (the waiters
//    replay it), nothing is taken, and the order can still be paid.
TEST_F(CommerceConcurrencyE2E, OneDecliningKeyTwentyTimesAtOnceDeclinesAllAndChangesNothing) {
    constexpr int n = 20;
    constexpr std::int64_t user = kDeclineTwinUser;
    constexpr std::int64_t price = 2'500;
    constexpr int stock = 30;
    constexpr int quantity = 4;
    constexpr std::int64_t total = price * quantity;
    constexpr std::int64_t initial = 200'000;
    CommercePg pg;
    pg.set_balance(user, initial);
    const std::int64_t product = pg.insert_product(price, stock);
    ASSERT_TRUE(product_visible(product, stock));
    HttpClient client(port());
    const auto created = create_order(client, user, {{product, quantity}});
    ASSERT_EQ(created.status, 201) << created.body;
    const std::int64_t order = field(created, "orderId");

    const std::string key = unique_key("cc-twin-fail");
    const auto responses = parallel(
        port(), n, [&](int, HttpClient& c) { return c.post(payment_path(order), payment_body(user, key)); });
    const auto t = tally(responses);
    EXPECT_EQ(server_errors(responses), 0) << show(t);
    EXPECT_EQ(t.count("402 PAY002") ? t.at("402 PAY002") : 0, n) << show(t);
    for (const auto& r : responses) expect_error(r, 402, "PAY002");

    EXPECT_EQ(pg.balance(user), initial);
    EXPECT_EQ(pg.stock(product), stock);
    EXPECT_EQ(pg.order_status(order), "PENDING");
    EXPECT_EQ(pg.text("SELECT (paid_at IS NULL AND payment_key IS NULL)::text FROM orders WHERE id = $1",
                      {std::to_string(order)}),
              "true");
    EXPECT_EQ(pg.outbox_rows({order}), 0);

    const auto ok = client.post(payment_path(order), payment_body(user, unique_key("cc-twin-retry")));
    expect_receipt(ok, order, total, initial - total);
    EXPECT_EQ(pg.balance(user), initial - total);
    EXPECT_EQ(pg.stock(product), stock - quantity);
    EXPECT_EQ(pg.outbox_rows({order}), 1);
}

// 9. One order-creation key sent 20 times at once with the same body: one order, every response
//    201 with its orderId.
TEST_F(CommerceConcurrencyE2E, OneOrderKeyTwentyTimesAtOnceCreatesOneOrder) {
    constexpr int n = 20;
    constexpr std::int64_t user = kOrderKeyUser;
    constexpr std::int64_t price = 900;
    constexpr int stock = 100;
    CommercePg pg;
    const std::int64_t a = pg.insert_product(price, stock);
    const std::int64_t b = pg.insert_product(price + 100, stock);
    ASSERT_TRUE(product_visible(a, stock));
    ASSERT_TRUE(product_visible(b, stock));
    const std::string key = unique_key("cc-order-twin");
    const std::string body = order_body(user, {{b, 2}, {a, 3}}, std::nullopt, key);

    const auto responses = parallel(port(), n, [&](int, HttpClient& c) { return c.post(kOrdersPath, body); });
    const auto t = tally(responses);
    EXPECT_EQ(server_errors(responses), 0) << show(t);
    EXPECT_EQ(t.count("201") ? t.at("201") : 0, n) << show(t);
    std::set<std::int64_t> ids;
    for (const auto& r : responses) {
        if (r.status == 201) ids.insert(field(r, "orderId"));
    }
    ASSERT_EQ(ids.size(), 1u);
    const std::int64_t order = *ids.begin();

    const std::string p = id_array({a, b});
    EXPECT_EQ(
        pg.int64("SELECT count(DISTINCT order_id) FROM order_items WHERE product_id = ANY($1::bigint[])",
                 {p}),
        1);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM order_items WHERE order_id = $1", {std::to_string(order)}), 2);
    EXPECT_EQ(pg.int64("SELECT total_amount FROM orders WHERE id = $1", {std::to_string(order)}),
              price * 3 + (price + 100) * 2);
    EXPECT_EQ(pg.order_status(order), "PENDING");
    EXPECT_EQ(pg.int64("SELECT count(*) FROM orders WHERE user_id = $1 AND idempotency_key = $2",  // V023
                       {std::to_string(user), key}),
              1);
    EXPECT_EQ(pg.stock(a), stock);
    EXPECT_EQ(pg.stock(b), stock);
}

// 10. 200 buyers, 100 units, through POST /api/orders/complete (create and pay in one call):
//     exactly 100 succeed, the rest get 409 P002.
TEST_F(CommerceConcurrencyE2E, HundredUnitsViaCompleteGoToExactlyHundredOfTwoHundredBuyers) {
    constexpr int n = 200;
    constexpr int units = 100;
    constexpr std::int64_t price = 4'321;
    constexpr std::int64_t initial = 50'000;
    CommercePg pg;
    pg.set_balance(kCompleteFirst, kCompleteFirst + n - 1, initial);
    const std::int64_t product = pg.insert_product(price, units);
    ASSERT_TRUE(product_visible(product, units));

    const std::string prefix = unique_key("cc-complete") + "-";
    const auto responses = parallel(port(), n, [&](int i, HttpClient& c) {
        return c.post("/api/orders/complete", order_body(kCompleteFirst + i, {{product, 1}}, std::nullopt,
                                                         prefix + std::to_string(i)));
    });
    const auto t = tally(responses);
    EXPECT_EQ(server_errors(responses), 0) << show(t);
    EXPECT_EQ(t.size(), 2u) << show(t);
    EXPECT_EQ(t.count("201") ? t.at("201") : 0, units) << show(t);
    EXPECT_EQ(t.count("409 P002") ? t.at("409 P002") : 0, n - units) << show(t);

    std::vector<std::int64_t> winners;
    for (int i = 0; i < n; ++i) {
        const auto& r = responses[static_cast<size_t>(i)];
        const std::int64_t user = kCompleteFirst + i;
        if (r.status == 201) {
            const auto v = r.json();
            const auto& o = v.at("order");
            const auto& pay = v.at("payment");
            EXPECT_EQ(o.at("status").as_string(), "COMPLETED") << r.body;
            EXPECT_EQ(as_i64(o.at("totalAmount")), price) << r.body;
            EXPECT_EQ(as_i64(pay.at("orderId")), as_i64(o.at("orderId"))) << r.body;
            EXPECT_EQ(as_i64(pay.at("paidAmount")), price) << r.body;
            EXPECT_EQ(as_i64(pay.at("remainingBalance")), initial - price) << r.body;
            winners.push_back(as_i64(o.at("orderId")));
            EXPECT_EQ(pg.balance(user), initial - price) << "winner " << user;
        } else {
            expect_error(r, 409, "P002");
            EXPECT_EQ(pg.balance(user), initial) << "loser " << user;
        }
    }
    EXPECT_EQ(pg.stock(product), 0);
    EXPECT_EQ(pg.orders_with_status(winners, "COMPLETED"), static_cast<std::int64_t>(winners.size()));
    EXPECT_EQ(pg.int64("SELECT count(*) FROM orders o WHERE o.status = 'COMPLETED' AND "
                       "o.id IN (SELECT order_id FROM order_items WHERE product_id = $1)",
                       {std::to_string(product)}),
              units);
    EXPECT_EQ(
        pg.int64("SELECT count(*) FROM outbox_events WHERE event_type = 'OrderCompleted' AND aggregate_id IN "
                 "(SELECT order_id FROM order_items WHERE product_id = $1)",
                 {std::to_string(product)}),
        units);
    EXPECT_EQ(pg.outbox_rows(winners), units);
}

}  // namespace
}  // namespace ec::e2e
