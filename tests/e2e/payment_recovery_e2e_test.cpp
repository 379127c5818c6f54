// Crash safety of the payment saga (SPEC §11): a payment whose instance dies between step 1
// (balance, stock and coupon taken) and step 3 is rolled back by the stale-payment recovery, a
// kill -9 in the middle of a payment load loses nothing and applies nothing twice, and so does a
// PostgreSQL crash (step 1 commits asynchronously: only what a client was told must survive).
// Users 7600-7699 belong to this file.
#include <atomic>
#include <latch>
#include <random>
#include <thread>

#include "e2e/commerce_support.hpp"
#include "e2e/e2e_support.hpp"

namespace ec::e2e {
namespace {

using Clock = std::chrono::steady_clock;
namespace bj = boost::json;

std::int64_t insert_product(Pg& pg, std::int64_t price, std::int64_t stock) {
    return pg.int64(
        "INSERT INTO products (product_code, name, price, stock, category) VALUES ($1, 'recovery', $2, $3, "
        "'e2e') "
        "RETURNING id",
        {unique_code("R"), std::to_string(price), std::to_string(stock)});
}

std::string one_line_order(std::int64_t user, std::int64_t product, int quantity, const std::string& key,
                           std::optional<std::int64_t> coupon = std::nullopt) {
    return order_body(user, Lines{{product, quantity}}, coupon, key);
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return done();
}

TEST(PaymentRecoveryE2E, AbandonedReservationIsRolledBackAndTheOrderCanBePaidAgain) {
    constexpr std::int64_t user = 7600;
    ServerProcess server;  // test profile: payment.recovery-interval=1s, stale-after=2m
    server.wait_ready(60s);
    Pg pg;
    pg.exec("UPDATE users SET balance = 1000000 WHERE id = $1", {std::to_string(user)});
    const auto product = insert_product(pg, 1000, 50);
    const auto coupon = pg.int64(
        "INSERT INTO coupons (coupon_code, name, discount_rate, total_quantity, start_date, end_date) "
        "VALUES ($1, 'recovery 10%', 10, 10, now() - interval '1 day', now() + interval '1 day') RETURNING "
        "id",
        {unique_code("Q")});

    HttpClient client(server.port());
    ASSERT_EQ(client
                  .post("/api/coupons/" + std::to_string(coupon) + "/issue",
                        bj::serialize(bj::object{{"userId", user}}))
                  .status,
              200);
    const auto created =
        client.post("/api/orders", one_line_order(user, product, 3, unique_key("rec-order"), coupon));
    ASSERT_EQ(created.status, 201) << created.body;
    const auto order = as_i64(created.json().at("orderId"));
    const auto total = as_i64(created.json().at("totalAmount"));
    EXPECT_EQ(total, 2700);

    // Step 1 of a payment whose instance then died: the money, stock and coupon are taken.
    const auto key = unique_key("rec-pay");
    EXPECT_EQ(pg.scalar("SELECT outcome FROM payment_reserve($1, $2, $3)",
                        {std::to_string(order), std::to_string(user), key}),
              "RESERVED");
    EXPECT_EQ(pg.balance(user), 1000000 - total);
    EXPECT_EQ(pg.int64("SELECT stock FROM products WHERE id = $1", {std::to_string(product)}), 47);
    // A payment of the same order with another key is refused while that one is in flight.
    const auto blocked = client.post(payment_path(order), payment_body(user, unique_key("rec-other")));
    expect_error(blocked, 409, "PAY003");

    // Recovery only touches reservations older than payment.stale-after: age this one.
    pg.exec(
        "UPDATE idempotency_records SET updated_at = now() - interval '1 hour' "
        "WHERE user_id = $1 AND operation = 'PAYMENT' AND idempotency_key = $2",
        {std::to_string(user), key});
    const auto status_of_key = [&] {
        return pg
            .scalar(
                "SELECT status FROM idempotency_records WHERE user_id = $1 AND operation = 'PAYMENT' "
                "AND idempotency_key = $2",
                {std::to_string(user), key})
            .value_or("");
    };
    ASSERT_TRUE(wait_until([&] { return status_of_key() == "FAILED"; }, 15s)) << status_of_key();

    EXPECT_EQ(pg.balance(user), 1000000);
    EXPECT_EQ(pg.int64("SELECT stock FROM products WHERE id = $1", {std::to_string(product)}), 50);
    EXPECT_EQ(pg.scalar("SELECT status || '/' || coalesce(used_at::TEXT, 'null') FROM user_coupons "
                        "WHERE user_id = $1 AND coupon_id = $2",
                        {std::to_string(user), std::to_string(coupon)}),
              "AVAILABLE/null");
    EXPECT_EQ(pg.scalar("SELECT status || '/' || coalesce(payment_key, 'null') FROM orders WHERE id = $1",
                        {std::to_string(order)}),
              "PENDING/null");
    EXPECT_NE(server.log().find("rolled back"), std::string::npos);

    // The abandoned key answers its outcome; a new key pays the order, once.
    expect_error(client.post(payment_path(order), payment_body(user, key)), 402, "PAY002");
    const auto paid = client.post(payment_path(order), payment_body(user, unique_key("rec-again")));
    ASSERT_EQ(paid.status, 200) << paid.body;
    EXPECT_EQ(pg.balance(user), 1000000 - total);
    EXPECT_EQ(pg.int64("SELECT stock FROM products WHERE id = $1", {std::to_string(product)}), 47);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM outbox_events WHERE aggregate_id = $1", {std::to_string(order)}),
              1);
}

TEST(PaymentRecoveryE2E, KillNineDuringPaymentsLosesNothingAndAppliesNothingTwice) {
    constexpr std::int64_t first_user = 7610;
    constexpr int kUsers = 20;
    constexpr std::int64_t kBalance = 10'000'000;
    constexpr std::int64_t kStock = 1'000'000;
    auto server = std::make_unique<ServerProcess>();
    server->wait_ready(60s);
    Pg pg;
    const std::string users =
        "id BETWEEN " + std::to_string(first_user) + " AND " + std::to_string(first_user + kUsers - 1);
    pg.exec("UPDATE users SET balance = " + std::to_string(kBalance) + " WHERE " + users);
    // Orders of earlier runs on the same database are not part of this run's balance equation.
    const auto orders_before = pg.int64("SELECT coalesce(max(id), 0) FROM orders");
    const auto completed_payments = [&] {
        return pg.int64(
            "SELECT count(*) FROM idempotency_records WHERE operation = 'PAYMENT' AND status = 'COMPLETED' "
            "AND user_id BETWEEN $1 AND $2",
            {std::to_string(first_user), std::to_string(first_user + kUsers - 1)});
    };
    const auto payments_before = completed_payments();
    const auto product = insert_product(pg, 100, kStock);
    const auto product_s = std::to_string(product);
    const int port = server->port();

    std::atomic<bool> stop{false};
    std::atomic<int> paid_ok{0};
    std::mutex mutex;
    std::vector<std::int64_t> answered_paid;  // orders whose payment got a 200
    std::latch started(kUsers + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kUsers; ++t) {
        threads.emplace_back([&, t] {
            const std::int64_t user = first_user + t;
            started.arrive_and_wait();
            for (int i = 0; !stop; ++i) {
                try {
                    HttpClient client(port, 5s);
                    const auto created = client.post(
                        "/api/orders", one_line_order(user, product, 1 + i % 3, unique_key("k9-order")));
                    if (created.status != 201) continue;
                    const auto order = as_i64(created.json().at("orderId"));
                    const auto paid =
                        client.post(payment_path(order), payment_body(user, unique_key("k9-pay")));
                    if (paid.status == 200) {
                        ++paid_ok;
                        std::lock_guard lock(mutex);
                        answered_paid.push_back(order);
                    }
                } catch (const std::exception&) {
                    // connection refused/reset once the server is killed
                }
            }
        });
    }
    started.arrive_and_wait();
    const auto deadline = Clock::now() + 20s;
    while (paid_ok < 60 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
    server->kill9();
    stop = true;
    for (auto& t : threads) t.join();
    ASSERT_GE(paid_ok.load(), 60) << "too few payments before the kill";

    // A new instance rolls back whatever the dead one left between reserve and complete.
    server = std::make_unique<ServerProcess>(std::vector<std::string>{"payment.stale-after=1s"});
    server->wait_ready(60s);
    const auto processing = [&] {
        return pg.int64(
            "SELECT count(*) FROM idempotency_records WHERE operation = 'PAYMENT' "
            "AND status = 'PROCESSING' AND user_id BETWEEN $1 AND $2",
            {std::to_string(first_user), std::to_string(first_user + kUsers - 1)});
    };
    ASSERT_TRUE(wait_until([&] { return processing() == 0; }, 20s)) << processing() << " still PROCESSING";

    const std::string completed_of_users = "FROM orders o WHERE o.status = 'COMPLETED' AND o.id > " +
                                           std::to_string(orders_before) + " AND o.user_id BETWEEN " +
                                           std::to_string(first_user) + " AND " +
                                           std::to_string(first_user + kUsers - 1);
    // Money: every balance change is a completed payment.
    EXPECT_EQ(pg.int64("SELECT sum(balance) FROM users WHERE " + users) +
                  pg.int64("SELECT coalesce(sum(o.total_amount), 0) " + completed_of_users),
              kBalance * kUsers);
    // Stock: every unit gone is in a completed order.
    EXPECT_EQ(
        pg.int64("SELECT stock FROM products WHERE id = $1", {product_s}) +
            pg.int64(
                "SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id "
                "WHERE o.status = 'COMPLETED' AND i.product_id = $1",
                {product_s}),
        kStock);
    // Each completed order has exactly one outbox event and one completed payment record.
    EXPECT_EQ(pg.int64("SELECT count(*) " + completed_of_users +
                       " AND (SELECT count(*) FROM outbox_events e WHERE e.aggregate_id = o.id) <> 1"),
              0);
    EXPECT_EQ(pg.int64("SELECT count(*) " + completed_of_users), completed_payments() - payments_before);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM orders WHERE payment_key IS NOT NULL AND " +
                       std::string("user_id BETWEEN ") + std::to_string(first_user) + " AND " +
                       std::to_string(first_user + kUsers - 1)),
              0);
    // Every payment the client saw succeed is durable.
    for (const auto order : answered_paid) {
        EXPECT_EQ(pg.scalar("SELECT status FROM orders WHERE id = $1", {std::to_string(order)}), "COMPLETED")
            << "order " << order;
    }
}

TEST(PaymentRecoveryE2E, PostgresCrashDuringPaymentsLosesNothingAcknowledgedAndBalancesAddUp) {
    constexpr std::int64_t first_user = 7640;
    constexpr int kUsers = 20;
    constexpr std::int64_t kBalance = 10'000'000;
    constexpr std::int64_t kStock = 1'000'000;
    ServerProcess server(std::vector<std::string>{"payment.stale-after=1s"});
    server.wait_ready(60s);
    std::optional<Pg> pg(std::in_place);
    const std::string users =
        "id BETWEEN " + std::to_string(first_user) + " AND " + std::to_string(first_user + kUsers - 1);
    pg->exec("UPDATE users SET balance = " + std::to_string(kBalance) + " WHERE " + users);
    const auto orders_before = pg->int64("SELECT coalesce(max(id), 0) FROM orders");
    const auto product = insert_product(*pg, 100, kStock);
    const auto product_s = std::to_string(product);
    const int port = server.port();

    std::atomic<bool> stop{false};
    std::atomic<int> paid_ok{0};
    std::mutex mutex;
    std::vector<std::int64_t> answered_created, answered_paid;
    std::latch started(kUsers + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kUsers; ++t) {
        threads.emplace_back([&, t] {
            const std::int64_t user = first_user + t;
            started.arrive_and_wait();
            for (int i = 0; !stop; ++i) {
                try {
                    HttpClient client(port, 5s);
                    const auto created = client.post(
                        "/api/orders", one_line_order(user, product, 1 + i % 3, unique_key("pgc-order")));
                    if (created.status != 201) {
                        std::this_thread::sleep_for(20ms);  // the database is down: do not spin
                        continue;
                    }
                    const auto order = as_i64(created.json().at("orderId"));
                    {
                        std::lock_guard lock(mutex);
                        answered_created.push_back(order);
                    }
                    const auto paid =
                        client.post(payment_path(order), payment_body(user, unique_key("pgc-pay")));
                    if (paid.status == 200) {
                        ++paid_ok;
                        std::lock_guard lock(mutex);
                        answered_paid.push_back(order);
                    }
                } catch (const std::exception&) {
                    std::this_thread::sleep_for(20ms);
                }
            }
        });
    }
    started.arrive_and_wait();
    const auto deadline = Clock::now() + 20s;
    while (paid_ok < 60 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
    ASSERT_GE(paid_ok.load(), 60) << "too few payments before the crash";
    {
        pg.reset();  // its connection would not survive the crash
        ServiceOutage crash("pg", "crash");
        std::this_thread::sleep_for(500ms);  // requests in flight meet the dead database
    }
    // PostgreSQL is back (recovered from its WAL); the same server goes on paying, then stops.
    const int paid_before_restart = paid_ok.load();
    const auto resumed = Clock::now() + 30s;
    while (paid_ok < paid_before_restart + 40 && Clock::now() < resumed) std::this_thread::sleep_for(20ms);
    stop = true;
    for (auto& t : threads) t.join();
    EXPECT_GE(paid_ok.load(), paid_before_restart + 40) << "payments did not resume after the restart";

    pg.emplace();
    // Reservations whose completion never came are rolled back by the stale-payment recovery.
    const auto processing = [&] {
        return pg->int64(
            "SELECT count(*) FROM idempotency_records WHERE operation = 'PAYMENT' "
            "AND status = 'PROCESSING' AND user_id BETWEEN $1 AND $2",
            {std::to_string(first_user), std::to_string(first_user + kUsers - 1)});
    };
    ASSERT_TRUE(wait_until([&] { return processing() == 0; }, 20s)) << processing() << " still PROCESSING";

    const std::string completed_of_users = "FROM orders o WHERE o.status = 'COMPLETED' AND o.id > " +
                                           std::to_string(orders_before) + " AND o.user_id BETWEEN " +
                                           std::to_string(first_user) + " AND " +
                                           std::to_string(first_user + kUsers - 1);
    // Money and stock: every change is a completed payment, nothing more, nothing less.
    EXPECT_EQ(pg->int64("SELECT sum(balance) FROM users WHERE " + users) +
                  pg->int64("SELECT coalesce(sum(o.total_amount), 0) " + completed_of_users),
              kBalance * kUsers);
    EXPECT_EQ(pg->int64("SELECT stock FROM products WHERE id = $1", {product_s}) +
                  pg->int64("SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = "
                            "i.order_id WHERE o.status = 'COMPLETED' AND i.product_id = $1",
                            {product_s}),
              kStock);
    EXPECT_EQ(pg->int64("SELECT count(*) " + completed_of_users +
                        " AND (SELECT count(*) FROM outbox_events e WHERE e.aggregate_id = o.id) <> 1"),
              0);
    EXPECT_EQ(pg->int64("SELECT count(*) FROM orders WHERE payment_key IS NOT NULL AND user_id BETWEEN " +
                        std::to_string(first_user) + " AND " + std::to_string(first_user + kUsers - 1)),
              0);
    // What a client was told survived the crash: every 201 is an order, every 200 a completed one.
    std::lock_guard lock(mutex);
    for (const auto order : answered_created) {
        EXPECT_TRUE(
            pg->scalar("SELECT status FROM orders WHERE id = $1", {std::to_string(order)}).has_value())
            << "order " << order << " was answered 201 but is gone";
    }
    for (const auto order : answered_paid) {
        EXPECT_EQ(pg->scalar("SELECT status FROM orders WHERE id = $1", {std::to_string(order)}), "COMPLETED")
            << "order " << order;
    }
}

}  // namespace
}  // namespace ec::e2e
