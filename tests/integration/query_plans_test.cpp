// Hot statements stay on their indexes whatever PostgreSQL cached for them earlier in the session
// (docs/performance.md, "Plans that stay on the indexes"). A named statement, and every statement
// inside a plpgsql function, gets a generic plan after five executions and keeps it: made while a
// table was empty or small, it can be a sequential scan that then reads the whole table on every
// call as the table grows. Each test runs the statement on one pooled session (pool of one) more
// than five times first, then counts in pg_stat_user_tables what later executions read. The
// stale-payment sweep is checked the same way: a windowed sweep reads only recent records.
// The functions of a paid order are also checked never to plan a statement with a call's values.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/ranking.hpp"
#include "infra/postgres/migrator.hpp"
#include "infra/postgres/pg_order_repository.hpp"
#include "infra/postgres/pg_outbox_repository.hpp"
#include "infra/postgres/pg_payment_repository.hpp"
#include "infra/postgres/pg_pool.hpp"
#include "infra/postgres/pg_product_repository.hpp"
#include "ops/embedded_file.hpp"
#include "ops/metrics.hpp"
#include "support/migrated_scratch_pool.hpp"
#include "support/pg_admin.hpp"
#include "support/run_on_strand.hpp"
#include "support/scratch_database.hpp"
#include "support/test_env.hpp"

namespace ec::infra::pg {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Admin = ec::test::PgAdmin;

struct TableCounters {
    long long seq_scan = 0;
    long long seq_tup_read = 0;
    long long idx_scan = 0;
    long long n_tup_ins = 0;
    long long n_tup_upd = 0;
    long long idx_tup_fetch = 0;  // rows fetched through an index
    long long n_tup_hot_upd = 0;  // updates that wrote no index entry (the new version on its page)
    long long heap_blks = 0;      // heap blocks read (from the buffer cache or not)
};

class QueryPlanTest : public ::testing::Test {
protected:
    template <class F>
    auto run(F&& f) {
        return ec::test::run_on_strand(pg_->ioc(), std::forward<F>(f), 60s);
    }

    void SetUp() override {
        pg_.emplace("plans", [](ops::DatasourceConfig& ds) {
            ds.statement_timeout = 10s;
            ds.pool.maximum_pool_size = 1;  // one session: its cached plans are the ones under test
            ds.pool.minimum_idle = 1;
            ds.pool.connection_timeout = 5s;
        });
        url_ = pg_->url();
    }

    void TearDown() override { pg_.reset(); }

    // The server's counters for `table` once `ready` holds for them. Backends report their counters
    // when they go idle, at most about once a second; the pooled session is asked to report at once.
    template <class Ready>
    TableCounters counters_once(const std::string& table, Ready ready) {
        run([&]() -> asio::awaitable<void> {
            auto conn = co_await pg_->pool()->acquire();
            co_await conn->execute("SELECT pg_stat_force_next_flush()");
            co_return;
        });
        Admin db(url_);
        TableCounters c;
        const auto deadline = std::chrono::steady_clock::now() + 15s;
        do {
            db.exec("SELECT pg_stat_clear_snapshot()");
            const auto q = [&](const std::string& column) {
                return db.number("SELECT " + column + " FROM pg_stat_user_tables WHERE relname = $1",
                                 {table});
            };
            c = TableCounters{q("seq_scan"),  q("seq_tup_read"), q("coalesce(idx_scan, 0)"),
                              q("n_tup_ins"), q("n_tup_upd"),    q("coalesce(idx_tup_fetch, 0)")};
            c.n_tup_hot_upd = q("n_tup_hot_upd");
            c.heap_blks = db.number(
                "SELECT heap_blks_hit + heap_blks_read FROM pg_statio_user_tables WHERE relname = $1",
                {table});
            if (ready(c)) return c;
            std::this_thread::sleep_for(100ms);
        } while (std::chrono::steady_clock::now() < deadline);
        ADD_FAILURE() << "the statistics of " << table << " never showed the expected activity: seq_scan "
                      << c.seq_scan << ", seq_tup_read " << c.seq_tup_read << ", idx_scan " << c.idx_scan
                      << ", n_tup_ins " << c.n_tup_ins << ", n_tup_upd " << c.n_tup_upd;
        return c;
    }

    // A user with `balance`, and 300 products of ~600 bytes (~25 pages): enough that reading them all
    // is never the cheap way to find one, and few enough that a hash join with a sequential scan looks
    // cheaper to the planner than ten index lookups (V002's create_order did that twice per order,
    // its payment_reserve twice per payment). Returns the user and the first product.
    std::pair<std::int64_t, std::int64_t> user_and_products(long long balance, bool analyze = true) {
        Admin db(url_);
        const auto user = db.number(
            "INSERT INTO users (email, username, balance) VALUES ('plans@example.com', 'plans', $1) "
            "RETURNING id",
            {std::to_string(balance)});
        const auto first = db.number(
            "WITH p AS (INSERT INTO products (product_code, name, description, price, category, stock) "
            "  SELECT 'PLAN-' || i, 'product ' || i, repeat('d', 500), 1000, 'plans', 1000000 "
            "    FROM generate_series(1, 300) i "
            "  RETURNING id) SELECT min(id) FROM p");
        if (analyze) db.exec("ANALYZE products");
        db.exec("SELECT pg_stat_force_next_flush()");
        return {user, first};
    }

    // Creates `n` orders of two lines each (products spread over the 300); returns their ids.
    std::vector<std::int64_t> create_orders(std::int64_t user, std::int64_t first_product, int n) {
        PgOrderRepository orders(pg_->pool());
        std::vector<std::int64_t> ids;
        run([&]() -> asio::awaitable<void> {
            for (int i = 0; i < n; ++i) {
                const std::vector<domain::OrderLineRequest> lines{
                    domain::OrderLineRequest{first_product + (i * 7) % 300, 1 + i % 3},
                    domain::OrderLineRequest{first_product + (i * 7 + 1) % 300, 1}};
                const auto out =
                    co_await orders.create(user, "plan-" + std::to_string(i), "fp", lines, std::nullopt);
                EXPECT_EQ(out.kind, app::CreateOrderOutcome::Kind::Created) << "order " << i;
                if (out.order) ids.push_back(out.order->id);
            }
            co_return;
        });
        return ids;
    }

    // The lines of 10,000 earlier orders (ids from 1,000,000; two lines each, over the 300 products
    // from `first_product`), not analysed.
    void add_earlier_order_lines(std::int64_t first_product) {
        Admin(url_).exec(
            "INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price, subtotal) "
            "SELECT 1000000 + i / 2, $1::BIGINT + i % 300, 'earlier', 1, 1000, 1000 "
            "  FROM generate_series(0, 19999) i",
            {std::to_string(first_product)});
    }

    enum class Gateway { Approves, Declines };

    // Pays `orders` of `user` as the service does, on the pooled session: the reservation, then the
    // completion (the gateway approved) or the compensation (it declined).
    void pay(std::int64_t user, const std::vector<std::int64_t>& orders,
             Gateway gateway = Gateway::Approves) {
        PgPaymentRepository payments(pg_->pool());
        run([&]() -> asio::awaitable<void> {
            for (const auto order : orders) {
                const auto key = "pay-" + std::to_string(order);
                const auto r = co_await payments.reserve(order, user, key);
                EXPECT_EQ(r.kind, app::ReserveOutcome::Kind::Reserved) << "order " << order;
                if (gateway == Gateway::Declines) {
                    co_await payments.compensate(user, key, "declined by the test");
                    continue;
                }
                const auto receipt = co_await payments.complete(order, user, key, r, "PG_APPROVED: plan");
                EXPECT_TRUE(receipt.has_value()) << "order " << order;
            }
            co_return;
        });
    }

    // Adds `n` due OrderCompleted events for the aggregates first_aggregate, first_aggregate + 1, ...
    void add_due_events(int first_aggregate, int n) {
        Admin(url_).exec(
            "INSERT INTO outbox_events (event_type, aggregate_id, payload) "
            "SELECT 'OrderCompleted', $1::BIGINT + i, '{}'::jsonb FROM generate_series(0, $2::INT - 1) i",
            {std::to_string(first_aggregate), std::to_string(n)});
    }

    // The relay's Redis side, as if every event applied.
    static asio::awaitable<std::vector<app::OutboxFailure>> publish_all(
        const std::vector<app::OutboxEvent>&) {
        co_return std::vector<app::OutboxFailure>{};
    }

    std::optional<ec::test::MigratedScratchPool> pg_;
    std::string url_;  // the scratch database's
};

TEST_F(QueryPlanTest, OrderCreationLooksEachProductUpByItsKey) {
    const auto [user, first] = user_and_products(0);
    const auto before = counters_once("products", [](const TableCounters&) { return true; });

    constexpr int kOrders = 12;  // the function's statements switch to generic plans after five
    create_orders(user, first, kOrders);

    // Every line's product is read through the primary key: at least one index scan per line.
    const auto after = counters_once(
        "products", [&](const TableCounters& c) { return c.idx_scan - before.idx_scan >= 2 * kOrders; });
    EXPECT_EQ(after.seq_scan - before.seq_scan, 0) << "sequential scans of products while creating orders";
    EXPECT_EQ(Admin(url_).number("SELECT count(*) FROM order_items"), 2 * kOrders);
}

TEST_F(QueryPlanTest, PaymentLocksAndTakesEachProductThroughItsKey) {
    const auto [user, first] = user_and_products(100000000, false);
    // Lines of 10,000 earlier orders, not yet analysed (a young shop between autovacuum runs): the
    // planner expects many lines per order and, for V002's joins, hashes all of products rather than
    // looking each line's product up.
    add_earlier_order_lines(first);
    constexpr int kOrders = 12;  // more than five payments: past the switch to cached generic plans
    const auto orders = create_orders(user, first, kOrders);
    const auto before = counters_once("products", [](const TableCounters&) { return true; });

    pay(user, orders);

    // Two lines per payment, each locked and then updated through the primary key.
    const auto after = counters_once(
        "products", [&](const TableCounters& c) { return c.n_tup_upd - before.n_tup_upd >= 2 * kOrders; });
    EXPECT_EQ(after.seq_scan - before.seq_scan, 0) << "sequential scans of products while paying orders";
    Admin db(url_);
    EXPECT_EQ(db.number("SELECT count(*) FROM orders WHERE status = 'COMPLETED'"), kOrders);
    EXPECT_EQ(db.number("SELECT 300 * 1000000 - sum(stock) FROM products"),
              db.number("SELECT sum(quantity) FROM order_items WHERE order_id < 1000000"));
}

TEST_F(QueryPlanTest, PaymentPlansMadeWhileTheTablesWereSmallStayOnTheIndexesAsTheyGrow) {
    const auto [user, first] = user_and_products(100000000);
    constexpr int kOrders = 16;
    const auto orders = create_orders(user, first, kOrders);
    // A young shop, analysed: one page of order lines. Eight payments then run past the switch to
    // the cached generic plans, made for these sizes.
    Admin db(url_);
    db.exec("ANALYZE orders, order_items, users, idempotency_records");
    pay(user, std::vector<std::int64_t>(orders.begin(), orders.begin() + kOrders / 2));
    // Months later, before the next ANALYZE: 20,000 earlier order lines.
    add_earlier_order_lines(first);
    db.exec("SELECT pg_stat_force_next_flush()");
    const auto before = counters_once(
        "order_items", [](const TableCounters& c) { return c.n_tup_ins >= 20000 + 2 * kOrders; });

    pay(user, std::vector<std::int64_t>(orders.begin() + kOrders / 2, orders.end()));

    // The reservation and the completion each read the order's lines through its key.
    const auto after = counters_once(
        "order_items", [&](const TableCounters& c) { return c.idx_scan - before.idx_scan >= kOrders; });
    EXPECT_EQ(after.seq_tup_read - before.seq_tup_read, 0)
        << (after.seq_scan - before.seq_scan) << " sequential scans of the order lines";
    EXPECT_EQ(db.number("SELECT count(*) FROM orders WHERE status = 'COMPLETED'"), kOrders);
}

// V018: the functions of a paid order run generic plans from their first call. Left to choose, a
// session compares each new generic plan with the average of the first five custom plans it made,
// and after an ANALYZE of a grown table that comparison can favour planning on every call for the
// rest of the session (seen in the order + pay bench; see the migration). auto_explain logs the plan
// of every statement the functions run: a custom plan shows the parameters' values as constants, a
// generic one `$n`.
TEST_F(QueryPlanTest, PaidOrderFunctionsNeverPlanTheirStatementsWithTheCallsValues) {
    const auto [user, first] = user_and_products(100000000);
    Admin db(url_);
    const auto stranger =
        std::to_string(db.number("INSERT INTO users (email, username, balance) VALUES "
                                 "('stranger@example.com', 'stranger', 0) RETURNING id"));
    const auto owner = std::to_string(user);

    Admin session(url_);
    session.exec("LOAD 'auto_explain'");
    session.exec(
        "SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; "
        "SET client_min_messages = log");
    std::vector<std::string> orders;
    const auto outcome = [&](const std::string& sql, const std::vector<std::string>& params) {
        return session.scalar(sql, params).value_or("");
    };
    for (int i = 0; i < 4; ++i) {
        orders.push_back(outcome(
            "SELECT order_id FROM create_order($1, $2, 'fp', ARRAY[$3]::BIGINT[], ARRAY[1], NULL) LIMIT 1",
            {owner, "generic-o" + std::to_string(i), std::to_string(first + i)}));
    }
    const std::string reserve = "SELECT outcome FROM payment_reserve($1, $2, $3)";
    for (int i = 0; i < 2; ++i) {  // paid
        const auto key = "generic-p" + std::to_string(i);
        EXPECT_EQ(outcome(reserve, {orders[i], owner, key}), "RESERVED");
        EXPECT_EQ(outcome("SELECT outcome FROM payment_complete($1, $2, $3, 'PG_APPROVED: x', 1000, 0)",
                          {orders[i], owner, key}),
                  "COMPLETED");
    }
    EXPECT_EQ(outcome(reserve, {orders[2], owner, "generic-p2"}), "RESERVED");  // declined
    outcome("SELECT outcome FROM payment_compensate($1, $2, 'PG_DECLINED: x')", {owner, "generic-p2"});
    EXPECT_NE(outcome(reserve, {orders[3], stranger, "generic-p3"}), "RESERVED");  // the checked refusal

    // The plans of the statements inside the functions (the calls above are logged too).
    int nested = 0;
    std::vector<std::string> custom;
    for (const auto& notice : session.notices()) {
        const auto text = notice.find("Query Text: ");
        if (text == std::string::npos) continue;
        const auto query = notice.substr(text + 12, 40);
        if (query.starts_with("SELECT order_id FROM create_order") ||
            query.starts_with("SELECT outcome FROM"))
            continue;
        ++nested;
        for (const auto& value : {owner, stranger, orders[0], orders[1], orders[2], orders[3]}) {
            if (notice.find("'" + value + "'::bigint") != std::string::npos) {
                custom.push_back(notice);
                break;
            }
        }
    }
    // At least four statements per creation (V023), five per accepted reservation, three per completion.
    EXPECT_GE(nested, 4 * 4 + 3 * 5 + 2 * 3) << "auto_explain logged fewer statements than the calls ran";
    EXPECT_TRUE(custom.empty()) << custom.size() << " statements planned with the call's values; the first:\n"
                                << (custom.empty() ? "" : custom.front());
}

// V021: a declined payment gives its coupon back through the coupon's key, and an order without a
// coupon does not look for one: no compensation reads the whole of user_coupons.
TEST_F(QueryPlanTest, DeclinedPaymentsNeverScanTheUserCoupons) {
    const auto [user, first] = user_and_products(100000000);
    constexpr int kOrders = 8;  // past the five calls planned with their values
    const auto orders = create_orders(user, first, kOrders);
    const auto before = counters_once("user_coupons", [](const TableCounters&) { return true; });

    pay(user, orders, Gateway::Declines);

    EXPECT_EQ(Admin(url_).number("SELECT count(*) FROM idempotency_records WHERE status = 'FAILED'"),
              kOrders);
    // Once the compensations' updates of their records show in the statistics, so do their reads.
    counters_once("idempotency_records", [&](const TableCounters& c) { return c.n_tup_upd >= kOrders; });
    const auto after = counters_once("user_coupons", [](const TableCounters&) { return true; });
    EXPECT_EQ(after.seq_scan - before.seq_scan, 0) << "compensations scanned user_coupons";
}

// V022: a payment's reservation and completion update its order in place (no index covers the
// columns they set), and the readers of paid orders by time (the top products, a day's sales for
// the ranking rebuild) find them through their OrderCompleted events without reading all orders.
TEST_F(QueryPlanTest, PaymentsUpdateTheOrderInPlaceAndPaidOrdersAreFoundThroughTheirEvents) {
    const auto [user, first] = user_and_products(100000000);
    constexpr int kOrders = 8;  // past the five calls planned with their values
    const auto orders = create_orders(user, first, kOrders);
    const auto before = counters_once("orders", [](const TableCounters&) { return true; });

    pay(user, orders);

    // Two updates per payment (reservation, completion), each HOT.
    const auto paid = counters_once(
        "orders", [&](const TableCounters& c) { return c.n_tup_upd - before.n_tup_upd >= 2 * kOrders; });
    EXPECT_EQ(paid.n_tup_upd - before.n_tup_upd, 2 * kOrders);
    EXPECT_EQ(paid.n_tup_hot_upd - before.n_tup_hot_upd, 2 * kOrders)
        << "updates of orders that were not HOT";

    // Then months of earlier paid orders (10 to 40 days ago), each with its event, analysed.
    Admin db(url_);
    db.exec(
        "WITH o AS (INSERT INTO orders (id, order_number, user_id, subtotal_amount, discount_amount, "
        "    total_amount, status, created_at, paid_at) "
        "  SELECT 2000000 + i, 'EARLIER-' || i, $1::BIGINT, 1000, 0, 1000, 'COMPLETED', t, t "
        "    FROM generate_series(1, 5000) i, LATERAL (SELECT now() - INTERVAL '10 days' "
        "                                                  - i * INTERVAL '8 minutes' AS t) x "
        "  RETURNING id, paid_at) "
        "INSERT INTO outbox_events (event_type, aggregate_id, payload, created_at, published_at) "
        "SELECT 'OrderCompleted', o.id, '{}'::jsonb, o.paid_at, o.paid_at FROM o",
        {std::to_string(user)});
    db.exec(
        "INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price, subtotal) "
        "SELECT id, $1::BIGINT, 'earlier', 1, 1000, 1000 FROM orders WHERE id > 2000000",
        {std::to_string(first)});
    db.exec("ANALYZE orders, order_items, outbox_events");
    db.exec("SELECT pg_stat_force_next_flush()");
    const auto orders_before =
        counters_once("orders", [](const TableCounters& c) { return c.n_tup_ins >= 5000 + kOrders; });
    const auto events_before =
        counters_once("outbox_events", [](const TableCounters& c) { return c.n_tup_ins >= 5000 + kOrders; });

    std::vector<domain::TopProduct> top;
    long long day_units = 0;
    std::size_t day_events = 0;
    PgProductRepository products(pg_->pool());
    PgOutboxRepository outbox(pg_->pool(), 5, 100ms, "Asia/Seoul");
    run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 7; ++i) top = co_await products.top_selling(3, 1000, "Asia/Seoul");
        const auto today = domain::parse_business_date(
            db.exec("SELECT (now() AT TIME ZONE 'Asia/Seoul')::date::text"));  // the repository's zone
        EXPECT_TRUE(today.has_value());
        if (!today) co_return;
        co_await outbox.with_day_sales(*today, [&](const app::DaySales& sales) -> asio::awaitable<void> {
            for (const auto& t : sales.totals) day_units += t.sales_count;
            day_events = sales.event_ids.size();
            co_return;
        });
        co_return;
    });

    // Exactly this test's payments: the earlier orders are outside both periods.
    const auto units = db.number("SELECT sum(quantity) FROM order_items WHERE order_id < 2000000");
    long long top_units = 0;
    for (const auto& t : top) top_units += t.sales_count;
    EXPECT_EQ(top_units, units);
    EXPECT_EQ(day_units, units);
    EXPECT_EQ(day_events, static_cast<std::size_t>(kOrders));
    db.exec("SELECT pg_stat_force_next_flush()");
    const auto orders_after = counters_once("orders", [](const TableCounters&) { return true; });
    const auto events_after = counters_once(
        "outbox_events", [&](const TableCounters& c) { return c.idx_scan > events_before.idx_scan; });
    EXPECT_EQ(orders_after.seq_tup_read - orders_before.seq_tup_read, 0) << "the readers scanned orders";
    EXPECT_EQ(events_after.seq_tup_read - events_before.seq_tup_read, 0) << "the readers scanned the outbox";
}

TEST_F(QueryPlanTest, OutboxClaimsAndStatsStayOnTheIndexesAsTheOutboxGrows) {
    PgOutboxRepository outbox(pg_->pool(), 5, 100ms, "Asia/Seoul");
    // The relay starts on an empty outbox and first sees a trickle of events: more than five rounds
    // and stats on an empty table, then more than five rounds that claim and mark one event each.
    Admin db(url_);
    for (int i = 0; i < 16; ++i) {
        if (i >= 8) add_due_events(900000 + i, 1);
        run([&]() -> asio::awaitable<void> {
            const auto r = co_await outbox.drain(20, publish_all);
            EXPECT_EQ(r.published, i >= 8 ? 1u : 0u) << "round " << i;
            (void)co_await outbox.stats();
            co_return;
        });
    }

    // Then months of published events and a few due ones.
    db.exec(
        "INSERT INTO outbox_events (event_type, aggregate_id, payload, published_at) "
        "SELECT 'OrderCompleted', i, '{}'::jsonb, now() FROM generate_series(1, 20000) i");
    db.exec(
        "INSERT INTO outbox_events (event_type, aggregate_id, payload) "
        "SELECT 'OrderCompleted', 100000 + i, '{}'::jsonb FROM generate_series(1, 50) i");
    db.exec("SELECT pg_stat_force_next_flush()");  // report the inserts when this session goes idle
    const auto before =
        counters_once("outbox_events", [](const TableCounters& c) { return c.n_tup_ins >= 20050; });

    std::size_t published = 0;
    run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 8; ++i) {
            const auto r = co_await outbox.drain(20, publish_all);
            published += r.published;
            const auto s = co_await outbox.stats();
            EXPECT_EQ(s.parked, 0);
        }
        co_return;
    });
    EXPECT_EQ(published, 50u);

    const auto after = counters_once(
        "outbox_events", [&](const TableCounters& c) { return c.n_tup_upd - before.n_tup_upd >= 50; });
    // A sequential scan now would read all 20,058 rows at least once.
    EXPECT_EQ(after.seq_tup_read - before.seq_tup_read, 0)
        << (after.seq_scan - before.seq_scan) << " sequential scans of the outbox";
}

TEST_F(QueryPlanTest, OutboxClaimsStepOverTheEventsPublishedSinceTheLastVacuum) {
    PgOutboxRepository outbox(pg_->pool(), 5, 100ms, "Asia/Seoul");
    Admin db(url_);
    // 20,000 events published since the last vacuum (which does not come during the test): their old
    // versions stay, and so do their entries in the index of unpublished events. Their heap order is
    // not their next_attempt_at order (concurrent payments commit out of order; marking moves rows).
    // Then 40 due events, and statistics taken then (a relay that keeps up, as an ANALYZE sees it).
    db.exec("ALTER TABLE outbox_events SET (autovacuum_enabled = off)");
    db.exec(
        "INSERT INTO outbox_events (event_type, aggregate_id, payload, next_attempt_at) "
        "SELECT 'OrderCompleted', i, '{}'::jsonb, now() - random() * INTERVAL '1 hour' "
        "  FROM generate_series(1, 20000) i");
    db.exec("UPDATE outbox_events SET published_at = now()");
    add_due_events(100000, 40);
    db.exec("ANALYZE outbox_events");

    std::size_t published = 0;
    const auto drain = [&] {
        run([&]() -> asio::awaitable<void> {
            const auto r = co_await outbox.drain(200, publish_all);  // the default batch size
            published += r.published;
            co_return;
        });
    };
    drain();  // the first claim after the vacuum meets the dead versions (and marks their entries)
    db.exec("SELECT pg_stat_force_next_flush()");
    const auto before =
        counters_once("outbox_events", [](const TableCounters& c) { return c.n_tup_upd >= 20040; });
    for (int i = 0; i < 7; ++i) {
        add_due_events(100100, 2);
        drain();
    }
    EXPECT_EQ(published, 54u);

    db.exec("SELECT pg_stat_force_next_flush()");
    const auto after = counters_once(
        "outbox_events", [&](const TableCounters& c) { return c.n_tup_upd - before.n_tup_upd >= 14; });
    // 20,000 dead versions fill ≈ 170 heap pages, which a claim visiting them reads (a bitmap scan
    // visits the heap row of every entry it collects). Adding, claiming, locking and marking 2 due
    // events reads about a dozen.
    EXPECT_LT(after.heap_blks - before.heap_blks, 250) << "heap blocks read in 7 rounds of 2 events";
}

TEST_F(QueryPlanTest, TheStalePaymentSweepReadsOnlyTheRecentRecordsUnlessItIsAFullOne) {
    Admin db(url_);
    // A month of finished requests, and two payments abandoned in flight: one recent (its record
    // written 10 minutes ago), one from two weeks ago.
    db.exec(
        "INSERT INTO idempotency_records (user_id, operation, idempotency_key, request_fingerprint, status, "
        "  created_at, updated_at, expires_at) "
        "SELECT i % 1000, 'CHARGE', 'k' || i, '1', 'COMPLETED', t, t, t + INTERVAL '1 day' "
        "  FROM generate_series(1, 20000) i, LATERAL (SELECT now() - i * INTERVAL '2 minutes' AS t) x");
    const auto abandoned = [&](const std::string& key, const std::string& age) {
        db.exec(
            "INSERT INTO idempotency_records (user_id, operation, idempotency_key, request_fingerprint, "
            "status, "
            "  created_at, updated_at, expires_at) "
            "SELECT 1, 'PAYMENT', $1, '999999', 'PROCESSING', t, t, t + INTERVAL '1 day' "
            "  FROM (SELECT now() - $2::INTERVAL AS t) x",
            {key, age});
    };
    abandoned("recent", "10 minutes");
    abandoned("old", "14 days");
    // And the last 100 seconds of traffic: 5,000 records too young to be stale.
    db.exec(
        "INSERT INTO idempotency_records (user_id, operation, idempotency_key, request_fingerprint, status, "
        "  created_at, updated_at, expires_at) "
        "SELECT i % 1000, 'PAYMENT', 'young' || i, '1', 'COMPLETED', t, t, t + INTERVAL '1 day' "
        "  FROM generate_series(1, 5000) i, LATERAL (SELECT now() - i * INTERVAL '20 milliseconds' AS t) x");
    db.exec("ANALYZE idempotency_records");
    db.exec("SELECT pg_stat_force_next_flush()");
    const auto status = [&](const std::string& key) {
        return db.exec(
            "SELECT status FROM idempotency_records WHERE operation = 'PAYMENT' AND idempotency_key = $1",
            {key});
    };
    const auto before =
        counters_once("idempotency_records", [](const TableCounters& c) { return c.n_tup_ins >= 25002; });

    PgPaymentRepository payments(pg_->pool());
    std::vector<std::int64_t> released;
    run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 8; ++i) {  // more than five: past the switch to a cached plan, were there one
            const auto r =
                co_await payments.recover_stale(2min, 100, std::optional<std::chrono::milliseconds>(20min));
            released.insert(released.end(), r.begin(), r.end());
        }
        co_return;
    });
    EXPECT_EQ(released.size(), 1u);
    EXPECT_EQ(status("recent"), "FAILED");
    EXPECT_EQ(status("old"), "PROCESSING") << "outside the window";
    const auto windowed = counters_once(
        "idempotency_records", [&](const TableCounters& c) { return c.n_tup_upd - before.n_tup_upd >= 1; });
    EXPECT_EQ(windowed.seq_tup_read - before.seq_tup_read, 0)
        << (windowed.seq_scan - before.seq_scan) << " sequential scans of the idempotency records";
    // The window (20 minutes before now, up to 2 minutes before now) holds 9 finished records and the
    // recent abandoned one; the young records are past its end (V009 read all 5,000 in every sweep).
    EXPECT_LT(windowed.idx_tup_fetch - before.idx_tup_fetch, 200)
        << "records read through the index by 8 windowed sweeps";

    // A full sweep (no window) finds the old one too.
    run([&]() -> asio::awaitable<void> {
        const auto r = co_await payments.recover_stale(2min, 100, std::nullopt);
        EXPECT_EQ(r.size(), 1u);
        co_return;
    });
    EXPECT_EQ(status("old"), "FAILED");
}

}  // namespace
}  // namespace ec::infra::pg
