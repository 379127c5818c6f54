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
#include "e2e/ranking_support.hpp"

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

    // Recovery only touches reservations older than payment.stale-after (2m): age this one to 2m10s,
    // all its timestamps, as a record written then looks (windowed sweeps find it by expires_at).
    pg.exec(
        "UPDATE idempotency_records SET created_at = created_at - interval '130 seconds', "
        "  updated_at = updated_at - interval '130 seconds', expires_at = expires_at - interval '130 "
        "seconds' "
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

// A payment load for the crash tests: kUsers users create and pay orders of one fresh product, each
// in its own loop, until stop(); what the clients were answered is recorded, and afterwards
// expect_consistent() checks the database against it.
class PaymentLoad {
public:
    static constexpr int kUsers = 20;
    static constexpr std::int64_t kBalance = 10'000'000;
    static constexpr std::int64_t kStock = 1'000'000;

    PaymentLoad(Pg& pg, std::int64_t first_user, std::string key_prefix)
        : first_user_(first_user),
          prefix_(std::move(key_prefix)),
          range_("BETWEEN " + std::to_string(first_user) + " AND " +
                 std::to_string(first_user + kUsers - 1)) {
        pg.exec("UPDATE users SET balance = " + std::to_string(kBalance) + " WHERE id " + range_);
        // Orders of earlier runs on the same database are not part of this run's balance equation.
        orders_before_ = pg.int64("SELECT coalesce(max(id), 0) FROM orders");
        payments_before_ = payment_records(pg, "COMPLETED");
        product_ = insert_product(pg, 100, kStock);
    }
    PaymentLoad(const PaymentLoad&) = delete;
    PaymentLoad& operator=(const PaymentLoad&) = delete;
    ~PaymentLoad() { stop(); }

    void start(int port) {  // once
        for (int t = 0; t < kUsers; ++t) {
            threads_.emplace_back([this, port, t] {
                const std::int64_t user = first_user_ + t;
                started_.arrive_and_wait();
                for (int i = 0; !stop_; ++i) run_one(port, user, i);
            });
        }
        started_.arrive_and_wait();
    }
    // Waits until at least n payments were answered 200 (or the limit passed); returns the count.
    int wait_paid(int n, std::chrono::seconds limit) const {
        const auto deadline = Clock::now() + limit;
        while (paid_ok_ < n && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
        return paid_ok_;
    }
    int paid() const { return paid_ok_; }
    std::int64_t product() const { return product_; }
    void stop() {
        stop_ = true;
        for (auto& t : threads_) t.join();
        threads_.clear();
    }
    std::int64_t processing(Pg& pg) const { return payment_records(pg, "PROCESSING"); }

    // Money and stock: every change is a completed payment, nothing more, nothing less; each
    // completed order has one outbox event and one completed payment record; what a client was
    // told survived: every 201 is an order, every 200 a completed one.
    void expect_consistent(Pg& pg) const {
        const std::string completed = "FROM orders o WHERE o.status = 'COMPLETED' AND o.id > " +
                                      std::to_string(orders_before_) + " AND o.user_id " + range_;
        const auto product = std::to_string(product_);
        EXPECT_EQ(pg.int64("SELECT sum(balance) FROM users WHERE id " + range_) +
                      pg.int64("SELECT coalesce(sum(o.total_amount), 0) " + completed),
                  kBalance * kUsers);
        EXPECT_EQ(
            pg.int64("SELECT stock FROM products WHERE id = $1", {product}) +
                pg.int64("SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = "
                         "i.order_id WHERE o.status = 'COMPLETED' AND i.product_id = $1",
                         {product}),
            kStock);
        EXPECT_EQ(pg.int64("SELECT count(*) " + completed +
                           " AND (SELECT count(*) FROM outbox_events e WHERE e.aggregate_id = o.id) <> 1"),
                  0);
        EXPECT_EQ(pg.int64("SELECT count(*) " + completed),
                  payment_records(pg, "COMPLETED") - payments_before_);
        EXPECT_EQ(pg.int64("SELECT count(*) FROM orders WHERE payment_key IS NOT NULL AND user_id " + range_),
                  0);
        std::lock_guard lock(mutex_);
        for (const auto order : answered_created_) {
            EXPECT_TRUE(
                pg.scalar("SELECT status FROM orders WHERE id = $1", {std::to_string(order)}).has_value())
                << "order " << order << " was answered 201 but is gone";
        }
        for (const auto order : answered_paid_) {
            EXPECT_EQ(pg.scalar("SELECT status FROM orders WHERE id = $1", {std::to_string(order)}),
                      "COMPLETED")
                << "order " << order << " was answered 200";
        }
    }

private:
    void run_one(int port, std::int64_t user, int i) {
        try {
            HttpClient client(port, 5s);
            const auto created = client.post(
                "/api/orders", one_line_order(user, product_, 1 + i % 3, unique_key(prefix_ + "-order")));
            if (created.status != 201) {
                std::this_thread::sleep_for(20ms);  // the database is down: do not spin
                return;
            }
            const auto order = as_i64(created.json().at("orderId"));
            {
                std::lock_guard lock(mutex_);
                answered_created_.push_back(order);
            }
            const auto paid =
                client.post(payment_path(order), payment_body(user, unique_key(prefix_ + "-pay")));
            if (paid.status == 200) {
                ++paid_ok_;
                std::lock_guard lock(mutex_);
                answered_paid_.push_back(order);
            }
        } catch (const std::exception&) {
            std::this_thread::sleep_for(20ms);  // refused or reset: the server is being killed
        }
    }
    std::int64_t payment_records(Pg& pg, const std::string& status) const {
        return pg.int64(
            "SELECT count(*) FROM idempotency_records WHERE operation = 'PAYMENT' AND status = $1 AND "
            "user_id " +
                range_,
            {status});
    }

    std::int64_t first_user_;
    std::string prefix_;
    std::string range_;  // "BETWEEN first AND last" user id
    std::int64_t orders_before_ = 0;
    std::int64_t payments_before_ = 0;
    std::int64_t product_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> paid_ok_{0};
    mutable std::mutex mutex_;
    std::vector<std::int64_t> answered_created_, answered_paid_;
    std::latch started_{kUsers + 1};  // a member: the threads may still be leaving it after start()
    std::vector<std::thread> threads_;
};

TEST(PaymentRecoveryE2E, KillNineDuringPaymentsLosesNothingAndAppliesNothingTwice) {
    auto server = std::make_unique<ServerProcess>();
    server->wait_ready(60s);
    Pg pg;
    PaymentLoad load(pg, 7610, "k9");
    load.start(server->port());
    const int paid = load.wait_paid(60, 20s);
    server->kill9();
    load.stop();
    ASSERT_GE(paid, 60) << "too few payments before the kill";

    // A new instance rolls back whatever the dead one left between reserve and complete.
    server = std::make_unique<ServerProcess>(std::vector<std::string>{"payment.stale-after=1s"});
    server->wait_ready(60s);
    ASSERT_TRUE(wait_until([&] { return load.processing(pg) == 0; }, 20s))
        << load.processing(pg) << " still PROCESSING";
    load.expect_consistent(pg);
}

TEST(PaymentRecoveryE2E, PostgresCrashDuringPaymentsLosesNothingAcknowledgedAndBalancesAddUp) {
    ServerProcess server(std::vector<std::string>{"payment.stale-after=1s"});
    server.wait_ready(60s);
    std::optional<Pg> pg(std::in_place);
    PaymentLoad load(*pg, 7640, "pgc");
    load.start(server.port());
    const int before_crash = load.wait_paid(60, 20s);
    ASSERT_GE(before_crash, 60) << "too few payments before the crash";
    {
        pg.reset();  // its connection would not survive the crash
        ServiceOutage crash("pg", "crash");
        std::this_thread::sleep_for(500ms);  // requests in flight meet the dead database
    }
    // PostgreSQL is back (recovered from its WAL); the same server goes on paying, then stops.
    const int paid_at_restart = load.paid();
    EXPECT_GE(load.wait_paid(paid_at_restart + 40, 30s), paid_at_restart + 40)
        << "payments did not resume after the restart";
    load.stop();

    pg.emplace();
    // Reservations whose completion never came (or were lost) are rolled back by the recovery.
    ASSERT_TRUE(wait_until([&] { return load.processing(*pg) == 0; }, 20s))
        << load.processing(*pg) << " still PROCESSING";
    load.expect_consistent(*pg);
    // Completions are answered and published after a shared WAL flush (flush barrier): the crash
    // left no sale in the ranking that the database lost.
    const std::vector<std::int64_t> products{load.product()};
    ASSERT_TRUE(wait_published(*pg, products, 20s)) << "the relay did not catch up";
    RedisAdmin redis;
    const auto expected = db_units(*pg, products);
    EXPECT_EQ(redis_units(redis, expected, products), expected);
}

}  // namespace
}  // namespace ec::e2e
