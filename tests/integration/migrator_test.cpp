// Migrator and seeder against a real PostgreSQL (started by scripts/test.sh). Every test gets a
// database of its own (CREATE DATABASE mig_<pid>_<random>, dropped afterwards), so "fresh schema"
// really means fresh: parsing of migration names, applying the embedded migrations once, checksum
// verification, the advisory lock under concurrent start-up, and idempotent seeding.
#include "infra/postgres/migrator.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include "infra/postgres/pg_errors.hpp"
#include "infra/postgres/pg_pool.hpp"
#include "infra/postgres/seeder.hpp"
#include "ops/embedded_file.hpp"
#include "ops/metrics.hpp"
#include "support/pg_admin.hpp"
#include "support/run_on_strand.hpp"
#include "support/scratch_database.hpp"
#include "support/test_env.hpp"

namespace ec::infra::pg {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
// Note: GCC 12 miscompiles some coroutine shapes, so the coroutines below never co_await inside a
// condition, never put a braced list inside a co_await expression and end with an explicit co_return.

// A plain blocking libpq connection outside the pools under test.
using Admin = ec::test::PgAdmin;

std::vector<Migration> parse(const std::vector<std::string>& names) {
    std::vector<EmbeddedFile> files;
    for (const auto& n : names) files.push_back(EmbeddedFile{n, "-- " + n});
    return parse_migrations(files);
}

TEST(MigratorParseTest, AcceptsVersionedNamesAndSortsThemByVersion) {
    const auto parsed = parse({"V010__ten.sql", "V2__two_words.sql", "V001__Users_And_Idempotency.sql"});
    ASSERT_EQ(parsed.size(), 3u);
    EXPECT_EQ(parsed[0].version, 1);
    EXPECT_EQ(parsed[0].description, "Users_And_Idempotency");
    EXPECT_EQ(parsed[0].sql, "-- V001__Users_And_Idempotency.sql");
    EXPECT_EQ(parsed[1].version, 2);
    EXPECT_EQ(parsed[1].description, "two_words");
    EXPECT_EQ(parsed[2].version, 10);
    EXPECT_TRUE(parse({}).empty());

    // What the binary embeds parses, starting at V1.
    const auto embedded = parse_migrations(embedded_migrations());
    ASSERT_FALSE(embedded.empty());
    EXPECT_EQ(embedded.front().version, 1);
    EXPECT_EQ(embedded.front().description, "users_and_idempotency");
    EXPECT_NE(embedded.front().sql.find("CREATE TABLE users"), std::string::npos);
}

TEST(MigratorParseTest, RejectsMalformedNames) {
    for (const std::string bad :
         {"V1_single_underscore.sql", "001__no_prefix.sql", "v001__lowercase_v.sql",
          "V001__wrong_extension.txt", "V001__.sql", "V__no_version.sql", "V001__has-dash.sql",
          "V001__has space.sql", "V001__trailing.sql.bak", "prefix_V001__x.sql", "V-1__negative.sql",
          "V99999999999999999999__huge.sql"}) {
        try {
            parse({"V001__fine.sql", bad});
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const MigrationError& e) {
            EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "'" << bad << "' threw " << typeid(e).name() << " (" << e.what()
                          << ") instead of MigrationError";
        }
    }
}

TEST(MigratorParseTest, RejectsDuplicateVersions) {
    try {
        parse({"V001__first.sql", "V002__second.sql", "V1__same_version_as_first.sql"});
        ADD_FAILURE() << "accepted two migrations with version 1";
    } catch (const MigrationError& e) {
        EXPECT_NE(std::string(e.what()).find("version 1"), std::string::npos) << e.what();
    }
    EXPECT_THROW(parse({"V7__a.sql", "V007__b.sql"}), MigrationError);
    EXPECT_NO_THROW(parse({"V7__a.sql", "V8__a.sql"}));  // same description, different versions
}

class MigratorTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
    }

    void TearDown() override {
        for (auto& p : pools_) p->stop();
        pools_.clear();
        work_.reset();
        for (auto& t : threads_) t.join();
    }

    std::shared_ptr<PgPool> make_pool(const std::string& name) {
        ops::DatasourceConfig ds;
        ds.url = url_;
        ds.statement_timeout = 10s;
        ds.pool.maximum_pool_size = 2;
        ds.pool.minimum_idle = 1;
        ds.pool.connection_timeout = 5s;
        auto pool = PgPool::create(ioc_, ds, metrics_, name);
        pools_.push_back(pool);
        pool->start();
        return pool;
    }

    template <class F>
    auto run(F&& f, std::chrono::seconds limit = 30s) {
        return ec::test::run_on_strand(ioc_, std::forward<F>(f), limit);
    }

    MigrationReport migrate_with(PgPool& pool, const std::vector<Migration>& migrations) {
        return run(
            [&]() -> asio::awaitable<MigrationReport> { co_return co_await migrate(pool, migrations); });
    }

    SeedReport seed_with(PgPool& pool, bool demo, bool load_test) {
        return run([&]() -> asio::awaitable<SeedReport> { co_return co_await seed(pool, demo, load_test); });
    }

    // The SQLSTATE a statement ends with, followed by the constraint it names if any ("OK" when it
    // succeeds); each statement runs in a subtransaction of its own.
    static std::string outcome_of(Admin& db, const std::string& sql) {
        db.exec(
            "CREATE OR REPLACE FUNCTION pg_temp.outcome_of(p_sql TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$ "
            "DECLARE v_name TEXT; "
            "BEGIN EXECUTE p_sql; RETURN 'OK'; "
            "EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS v_name = CONSTRAINT_NAME; "
            "  RETURN SQLSTATE || coalesce(' ' || nullif(v_name, ''), ''); END $$");
        return db.exec("SELECT pg_temp.outcome_of($1)", {sql});
    }

    // Session advisory locks held in this test's database (a leaked migration lock would show here).
    long long advisory_locks(Admin& db) {
        return db.number(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())");
    }

    const std::vector<Migration> migrations_ = parse_migrations(embedded_migrations());
    asio::io_context ioc_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{ioc_.get_executor()};
    std::vector<std::thread> threads_;
    ops::MetricsRegistry metrics_;
    std::vector<std::shared_ptr<PgPool>> pools_;
    ec::test::ScratchDatabase db_{"mig"};  // dropped after TearDown has stopped the pools
    std::string url_ = db_.url();
};

TEST_F(MigratorTest, AppliesTheEmbeddedMigrationsExactlyOnce) {
    const int n = static_cast<int>(migrations_.size());
    ASSERT_GE(n, 1);
    auto pool = make_pool("mig-once");
    Admin db(url_);
    EXPECT_EQ(db.exec("SELECT to_regclass('users') IS NULL"), "t") << "the database must start empty";

    const auto first = migrate_with(*pool, migrations_);
    EXPECT_EQ(first.applied, n);
    EXPECT_EQ(first.already_applied, 0);
    EXPECT_EQ(db.number("SELECT count(*) FROM schema_migrations"), n);
    for (const auto& m : migrations_) {
        const std::string v = std::to_string(m.version);
        EXPECT_EQ(db.exec("SELECT description FROM schema_migrations WHERE version = " + v), m.description);
        EXPECT_EQ(db.exec("SELECT checksum FROM schema_migrations WHERE version = " + v),
                  db.exec("SELECT md5($1)", {m.sql}))
            << "V" << v;
    }
    // The schema of V001 is there.
    EXPECT_EQ(db.exec("SELECT to_regclass('users') IS NOT NULL"), "t");
    EXPECT_EQ(db.exec("SELECT to_regclass('idempotency_records') IS NOT NULL"), "t");
    EXPECT_EQ(db.number("SELECT count(*) FROM pg_proc WHERE proname = 'charge_balance'"), 1);
    EXPECT_EQ(advisory_locks(db), 0) << "the migration lock must be released";

    const auto second = migrate_with(*pool, migrations_);
    EXPECT_EQ(second.applied, 0);
    EXPECT_EQ(second.already_applied, n);
    EXPECT_EQ(db.number("SELECT count(*) FROM schema_migrations"), n);
    EXPECT_EQ(advisory_locks(db), 0);
    const auto s = pool->stats();
    EXPECT_EQ(s.active, 0);
    EXPECT_EQ(s.idle, s.total);
}

TEST_F(MigratorTest, RejectsATamperedChecksumAndAnUnknownAppliedVersion) {
    auto pool = make_pool("mig-tamper");
    Admin db(url_);
    migrate_with(*pool, migrations_);
    const Migration& m = migrations_.front();
    const std::string v = std::to_string(m.version);
    db.exec("UPDATE schema_migrations SET checksum = 'x' WHERE version = " + v);

    try {
        migrate_with(*pool, migrations_);
        ADD_FAILURE() << "a changed checksum was accepted";
    } catch (const MigrationError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("V" + v + " (" + m.description + ")"), std::string::npos) << what;
        EXPECT_NE(what.find("checksum x"), std::string::npos) << what;
    }
    // The failure released the lock and left the connection clean.
    EXPECT_EQ(advisory_locks(db), 0);
    const bool in_tx = run([&]() -> asio::awaitable<bool> {
        Lease lease = co_await pool->acquire();
        co_return lease->in_transaction();
    });
    EXPECT_FALSE(in_tx);

    // Restored: accepted again. An applied version this build does not know: rejected by name.
    db.exec("UPDATE schema_migrations SET checksum = md5($1) WHERE version = " + v, {m.sql});
    EXPECT_EQ(migrate_with(*pool, migrations_).applied, 0);
    db.exec(
        "INSERT INTO schema_migrations (version, description, checksum, execution_ms) "
        "VALUES (999, 'from_the_future', 'abc', 1)");
    try {
        migrate_with(*pool, migrations_);
        ADD_FAILURE() << "an unknown applied migration was accepted";
    } catch (const MigrationError& e) {
        EXPECT_NE(std::string(e.what()).find("V999"), std::string::npos) << e.what();
    }
    EXPECT_EQ(advisory_locks(db), 0);

    // A second pool (another instance) is not blocked by a lock left behind.
    db.exec("DELETE FROM schema_migrations WHERE version = 999");
    auto other = make_pool("mig-tamper-other");
    EXPECT_EQ(migrate_with(*other, migrations_).already_applied, static_cast<int>(migrations_.size()));
}

TEST_F(MigratorTest, ConcurrentMigrationsOnSeparatePoolsApplyEachMigrationOnce) {
    const int n = static_cast<int>(migrations_.size());
    auto a = make_pool("mig-a");
    auto b = make_pool("mig-b");
    auto run_on = [this](PgPool& pool) {
        return asio::co_spawn(
            asio::make_strand(ioc_),
            [&pool, this]() -> asio::awaitable<MigrationReport> {
                co_return co_await migrate(pool, migrations_);
            },
            asio::use_future);
    };
    auto fa = run_on(*a);
    auto fb = run_on(*b);
    ASSERT_EQ(fa.wait_for(30s), std::future_status::ready);
    ASSERT_EQ(fb.wait_for(30s), std::future_status::ready);
    MigrationReport ra, rb;
    ASSERT_NO_THROW(ra = fa.get());
    ASSERT_NO_THROW(rb = fb.get());

    // One instance applied everything while the other waited on the lock, then found it applied.
    EXPECT_EQ(ra.applied + rb.applied, n);
    EXPECT_EQ(ra.already_applied + rb.already_applied, n);
    EXPECT_TRUE((ra.applied == n && rb.applied == 0) || (ra.applied == 0 && rb.applied == n))
        << "a.applied=" << ra.applied << " b.applied=" << rb.applied;
    Admin db(url_);
    EXPECT_EQ(db.number("SELECT count(*) FROM schema_migrations"), n);
    EXPECT_EQ(advisory_locks(db), 0);
}

TEST_F(MigratorTest, SeedInsertsDemoAndLoadTestUsersOnceAndFast) {
    auto pool = make_pool("mig-seed");
    migrate_with(*pool, migrations_);
    Admin db(url_);

    auto started = Clock::now();
    const auto first = seed_with(*pool, true, true);
    const auto first_elapsed = Clock::now() - started;
    // 153 demo users (ids 1..153) and the 20,101 load-test ids, of which id 1 is already the demo user.
    EXPECT_EQ(first.demo_users, 153);
    EXPECT_EQ(first.load_test_users, 20'100);
    EXPECT_LT(first_elapsed, 2s);
    EXPECT_EQ(db.number("SELECT count(*) FROM users"), 153 + 20'100);
    EXPECT_EQ(db.exec("SELECT email FROM users WHERE id = 1"), "hanghae@example.com");
    EXPECT_EQ(db.number("SELECT balance FROM users WHERE id = 1"), 100'000'000);
    EXPECT_EQ(db.number("SELECT count(*) FROM users WHERE id BETWEEN 4 AND 153"), 150);
    EXPECT_EQ(db.number("SELECT count(*) FROM users WHERE id BETWEEN 1000 AND 10999"), 10'000);
    EXPECT_EQ(db.number("SELECT count(*) FROM users WHERE id BETWEEN 200000 AND 200099"), 100);
    EXPECT_EQ(db.number("SELECT count(*) FROM users WHERE id BETWEEN 300000 AND 309999"), 10'000);

    started = Clock::now();
    const auto second = seed_with(*pool, true, true);
    EXPECT_EQ(second.demo_users, 0);
    EXPECT_EQ(second.load_test_users, 0);
    EXPECT_LT(Clock::now() - started, 2s);
    EXPECT_EQ(db.number("SELECT count(*) FROM users"), 153 + 20'100);

    // The identity sequence was moved past the explicit ids.
    EXPECT_EQ(db.number("INSERT INTO users (email, username) VALUES ('after-seed@example.com', 'after') "
                        "RETURNING id"),
              310'000);
}

TEST_F(MigratorTest, SeedInsertsTheDemoCatalogueOnceWithThreeDaysOfRealSales) {
    auto pool = make_pool("mig-seed-catalogue");
    migrate_with(*pool, migrations_);
    Admin db(url_);

    const auto first = seed_with(*pool, true, false);
    EXPECT_FALSE(first.demo_commerce_skipped);
    EXPECT_EQ(first.demo_products, 21);
    EXPECT_EQ(first.demo_coupons, 5);
    EXPECT_EQ(first.demo_user_coupons, 2);
    EXPECT_EQ(first.demo_carts, 2);
    EXPECT_EQ(first.demo_cart_items, 3);
    EXPECT_EQ(first.demo_orders, 33);  // 18 sample orders + 15 paid orders of the last 3 days
    EXPECT_EQ(db.exec("SELECT name || ':' || price || ':' || stock FROM products WHERE id = 21"),
              "워크스테이션:15000000:100");
    EXPECT_EQ(
        db.exec("SELECT issued_quantity || '/' || total_quantity FROM coupons WHERE coupon_code = 'SOLDOUT'"),
        "1/1");
    EXPECT_EQ(db.exec("SELECT status FROM user_coupons WHERE user_id = 3"), "USED");
    // The same aggregation GET /api/products/top runs: units of paid orders of today and the 2 days before.
    EXPECT_EQ(
        db.exec(
            "SELECT string_agg(name || '=' || units, ',' ORDER BY units DESC) FROM ("
            "  SELECT p.name, sum(i.quantity) AS units FROM orders o JOIN order_items i ON i.order_id = o.id"
            "  JOIN products p ON p.id = i.product_id WHERE o.status = 'COMPLETED' AND o.paid_at >="
            "  (date_trunc('day', now() AT TIME ZONE 'Asia/Seoul') - interval '2 days') AT TIME ZONE "
            "'Asia/Seoul'"
            "  GROUP BY p.name ORDER BY units DESC LIMIT 5) t"),
        "마우스=90,키보드=70,노트북=60,헤드셋=53,모니터=37");
    // Every constraint holds for the seeded rows (they were inserted through the same schema).
    EXPECT_EQ(db.number("SELECT count(*) FROM orders WHERE (status = 'COMPLETED') <> (paid_at IS NOT NULL)"),
              0);
    // Paid orders are found through their events (V022): each of the 27 has one, created at its
    // paid_at; only the 15 recent sales are left for the relay to publish.
    EXPECT_EQ(
        db.exec(
            "SELECT count(*) || '/' || count(e.id) || '/' || count(*) FILTER (WHERE e.published_at IS NULL) "
            "  FROM orders o LEFT JOIN outbox_events e ON e.aggregate_id = o.id "
            "   AND e.event_type = 'OrderCompleted' AND e.created_at = o.paid_at "
            " WHERE o.status = 'COMPLETED'"),
        "27/27/15");
    EXPECT_EQ(db.number("SELECT count(*) FROM outbox_events"), 27);

    const auto second = seed_with(*pool, true, false);
    EXPECT_TRUE(second.demo_commerce_skipped);
    EXPECT_EQ(second.demo_products + second.demo_orders + second.demo_coupons, 0);
    EXPECT_EQ(db.number("SELECT count(*) FROM products"), 21);
    EXPECT_EQ(db.number("SELECT count(*) FROM orders"), 33);
    // Sequences were moved past the explicit ids.
    EXPECT_EQ(
        db.number("INSERT INTO products (product_code, name, price, stock) VALUES ('AFTER', 'after', 1, 1) "
                  "RETURNING id"),
        22);
}

TEST_F(MigratorTest, SeedLoadTestUsersAloneThenDemoUsers) {
    auto pool = make_pool("mig-seed-load");
    migrate_with(*pool, migrations_);
    Admin db(url_);

    const auto load = seed_with(*pool, false, true);
    EXPECT_EQ(load.demo_users, 0);
    EXPECT_EQ(load.load_test_users, 20'101);
    EXPECT_EQ(db.exec("SELECT email FROM users WHERE id = 1"), "k6test1@loadtest.com");

    // Demo data afterwards keeps the existing user 1 and adds the other 152.
    const auto demo = seed_with(*pool, true, false);
    EXPECT_EQ(demo.demo_users, 152);
    EXPECT_EQ(demo.load_test_users, 0);
    EXPECT_EQ(db.number("SELECT count(*) FROM users"), 20'101 + 152);
}

TEST_F(MigratorTest, EpochUsIsExactToTheMicrosecondAndInlinedByThePlanner) {
    auto pool = make_pool("mig-epoch");
    migrate_with(*pool, migrations_);
    Admin db(url_);
    // Microseconds since 1970-01-01 UTC, whatever the session's time zone.
    db.exec("SET TIME ZONE 'Asia/Seoul'");
    EXPECT_EQ(db.number("SELECT epoch_us(TIMESTAMPTZ '1970-01-01 00:00:00.000001+00')"), 1);
    EXPECT_EQ(db.number("SELECT epoch_us(TIMESTAMPTZ '2026-11-26 09:00:00.123456+09')"),
              1'795'651'200'123'456LL);
    EXPECT_EQ(db.number("SELECT epoch_us(TIMESTAMPTZ '1969-12-31 23:59:59.999999+00')"), -1);
    EXPECT_EQ(
        db.exec("SELECT bool_and(epoch_us(t) = (extract(epoch FROM t) * 1000000)::BIGINT) FROM "
                "generate_series(TIMESTAMPTZ '1960-01-01 00:00:00.000007+00', TIMESTAMPTZ '2100-01-01', "
                "INTERVAL '1 day 1 hour 1 second 1 microsecond') t"),
        "t");
    // Inlined: the plan shows the expression, not a call the SQL-function executor would run per row.
    const auto plan =
        db.exec("EXPLAIN (VERBOSE, COSTS OFF, FORMAT JSON) SELECT epoch_us(created_at) FROM orders");
    EXPECT_EQ(plan.find("epoch_us("), std::string::npos) << plan;
}

// V011: the invariants of orders and order lines (V002's CHECK constraints, now triggers that fire
// when a statement writes a column they involve) refuse every breaking INSERT and UPDATE with
// SQLSTATE 23514, and let valid writes through.
// A database in service before V022 and V023: its paid orders' events and its order keys move on.
TEST_F(MigratorTest, UpgradeKeepsEveryPaidOrderFindableAndEveryOrderKeyReplayable) {
    auto pool = make_pool("mig-upgrade");
    std::vector<Migration> before_v22;
    for (const auto& m : migrations_) {
        if (m.version < 22) before_v22.push_back(m);
    }
    ASSERT_EQ(migrate_with(*pool, before_v22).applied, static_cast<int>(before_v22.size()));
    Admin db(url_);
    const auto user = std::to_string(
        db.number("INSERT INTO users (email, username, balance) VALUES ('up@example.com', 'up', 100000) "
                  "RETURNING id"));
    const auto product = std::to_string(
        db.number("INSERT INTO products (product_code, name, price, stock) VALUES ('UP-1', 'up', 1000, 10) "
                  "RETURNING id"));
    const auto create = [&](const std::string& key, int quantity) {
        return db.exec(
            "SELECT outcome || ':' || coalesce(order_id::text, '-') FROM create_order($1, $2, $3, "
            "ARRAY[$4]::BIGINT[], ARRAY[$5]::INT[], NULL) LIMIT 1",
            {user, key, "fp" + std::to_string(quantity), product, std::to_string(quantity)});
    };
    const auto created = create("up-1", 2);
    ASSERT_TRUE(created.starts_with("CREATED:")) << created;
    const auto order = created.substr(8);
    EXPECT_TRUE(create("up-2", 1).starts_with("CREATED:"));
    // The first is paid; its event is then dated a day later, as the demo seed's were.
    EXPECT_EQ(db.exec("SELECT outcome FROM payment_reserve($1, $2, 'up-pay')", {order, user}), "RESERVED");
    EXPECT_EQ(db.exec("SELECT outcome FROM payment_complete($1, $2, 'up-pay', 'PG_APPROVED: x', 2000, 98000)",
                      {order, user}),
              "COMPLETED");
    db.exec("UPDATE outbox_events SET created_at = created_at + INTERVAL '1 day'");
    // An order paid before events were written.
    db.exec(
        "INSERT INTO orders (id, order_number, user_id, subtotal_amount, discount_amount, total_amount, "
        "status, "
        "  paid_at) VALUES (900001, 'UP-OLD', $1, 1000, 0, 1000, 'COMPLETED', now() - INTERVAL '40 days')",
        {user});

    migrate_with(*pool, migrations_);

    // Every paid order has one event created at its paid_at; the one added is already published.
    EXPECT_EQ(db.exec("SELECT string_agg(o.id || '=' || (e.created_at = o.paid_at) || '/' "
                      "                  || (e.published_at IS NOT NULL), ',' ORDER BY o.id) "
                      "  FROM orders o JOIN outbox_events e ON e.aggregate_id = o.id "
                      " WHERE o.status = 'COMPLETED'"),
              order + "=true/false,900001=true/true");
    // The keys moved to their orders; the same request replays, another is refused, a new key creates.
    EXPECT_EQ(db.number("SELECT count(*) FROM idempotency_records WHERE operation = 'ORDER'"), 0);
    EXPECT_EQ(db.number("SELECT count(*) FROM orders WHERE idempotency_key IS NOT NULL"), 2);
    EXPECT_EQ(create("up-1", 2), "REPLAYED:" + order);
    EXPECT_EQ(create("up-1", 3), "KEY_REUSED:-");
    EXPECT_TRUE(create("up-3", 1).starts_with("CREATED:"));
    EXPECT_EQ(db.number("SELECT count(*) FROM orders WHERE user_id = $1", {user}), 4);
}

TEST_F(MigratorTest, OrderInvariantsRefuseEveryBreakingWriteOfTheirColumns) {
    auto pool = make_pool("mig-invariants");
    migrate_with(*pool, migrations_);
    Admin db(url_);
    const auto outcome = [&](const std::string& sql) { return outcome_of(db, sql); };
    const auto order = std::to_string(db.number(
        "INSERT INTO orders (order_number, user_id, subtotal_amount, discount_amount, total_amount, status) "
        "VALUES ('ORDER-INV-1', 1, 1000, 100, 900, 'PENDING') RETURNING id"));
    const auto item = std::to_string(db.number(
        "INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price, subtotal) "
        "VALUES (" +
        order + ", 1, 'p', 2, 500, 1000) RETURNING id"));
    const auto insert_order = [](const std::string& amounts_status_paid) {
        return "INSERT INTO orders (order_number, user_id, subtotal_amount, discount_amount, total_amount, "
               "status, paid_at) VALUES ('ORDER-INV-2', 1, " +
               amounts_status_paid + ")";
    };
    const auto update_order = [&](const std::string& set) {
        return "UPDATE orders SET " + set + " WHERE id = " + order;
    };
    const auto insert_item = [&](const std::string& qty_price_subtotal) {
        return "INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price, subtotal) "
               "VALUES (" +
               order + ", 2, 'q', " + qty_price_subtotal + ")";
    };

    for (const auto& bad : {
             insert_order("0, 0, 0, 'PENDING', NULL"),                      // subtotal > 0
             insert_order("1000, -1, 1001, 'PENDING', NULL"),               // discount >= 0
             insert_order("1000, 1001, -1, 'PENDING', NULL"),               // discount <= subtotal
             insert_order("1000, 100, 1000, 'PENDING', NULL"),              // total = subtotal - discount
             insert_order("1000, 0, 1000, 'SHIPPED', NULL"),                // a known status
             insert_order("1000, 0, 1000, 'COMPLETED', NULL"),              // paid_at when COMPLETED
             insert_order("1000, 0, 1000, 'PENDING', now()"),               // and only then
             update_order("status = 'COMPLETED'"),                          //
             update_order("paid_at = now()"),                               //
             update_order("status = 'BOGUS'"),                              //
             update_order("total_amount = 1"),                              //
             update_order("discount_amount = 2000, total_amount = -1000"),  //
             insert_item("0, 500, 0"),                                      // quantity >= 1
             insert_item("1, 0, 0"),                                        // unit_price > 0
             insert_item("2, 500, 999"),  // subtotal = unit_price * quantity
             "UPDATE order_items SET quantity = 3 WHERE id = " + item,
         }) {
        EXPECT_EQ(outcome(bad), "23514") << bad;
    }
    EXPECT_EQ(db.number("SELECT count(*) FROM orders"), 1);
    EXPECT_EQ(db.number("SELECT count(*) FROM order_items"), 1);

    for (const auto& good : {
             update_order("payment_key = 'k'"),
             update_order("status = 'COMPLETED', paid_at = now(), payment_key = NULL"),
             "UPDATE order_items SET quantity = 3, subtotal = 1500 WHERE id = " + item,
             insert_order("1000, 1000, 0, 'PENDING', NULL"),
         }) {
        EXPECT_EQ(outcome(good), "OK") << good;
    }
    EXPECT_EQ(db.exec("SELECT status || ' ' || (paid_at IS NOT NULL) FROM orders WHERE id = " + order),
              "COMPLETED true");
}

// V014: the value rules of users, products and idempotency records (V001/V002's CHECKs, now domains
// with the same constraint names) refuse every breaking INSERT and UPDATE with SQLSTATE 23514, and
// let valid writes through, including the bounds themselves.
TEST_F(MigratorTest, ValueDomainsRefuseEveryBreakingWriteWithTheirConstraintNames) {
    auto pool = make_pool("mig-domains");
    migrate_with(*pool, migrations_);
    Admin db(url_);
    const auto outcome = [&](const std::string& sql) { return outcome_of(db, sql); };
    const auto user = std::to_string(db.number(
        "INSERT INTO users (email, username, balance) VALUES ('dom@example.com', 'dom', 100) RETURNING id"));
    const auto product = std::to_string(
        db.number("INSERT INTO products (product_code, name, description, price, category, stock) "
                  "VALUES ('DOM-1', 'd', 'd', 1000, 'c', 5) RETURNING id"));
    const auto insert_user = [](const std::string& balance) {
        return "INSERT INTO users (email, username, balance) VALUES ('dom2@example.com', 'dom2', " + balance +
               ")";
    };
    const auto insert_product = [](const std::pair<std::string, std::string>& price_stock) {
        return "INSERT INTO products (product_code, name, description, price, category, stock) "
               "VALUES ('DOM-2', 'd', 'd', " +
               price_stock.first + ", 'c', " + price_stock.second + ")";
    };
    const auto insert_record = [](const std::string& status) {
        return "INSERT INTO idempotency_records (user_id, operation, idempotency_key, request_fingerprint, "
               "status) VALUES (1, 'CHARGE', 'dom', 'f', '" +
               status + "')";
    };

    for (const auto& [bad, constraint] : std::vector<std::pair<std::string, std::string>>{
             {insert_user("-1"), "ck_users_balance"},
             {insert_user("1000000000000001"), "ck_users_balance"},
             {"UPDATE users SET balance = balance - 101 WHERE id = " + user, "ck_users_balance"},
             {insert_product({"0", "1"}), "ck_products_price"},
             {insert_product({"1000", "-1"}), "ck_products_stock"},
             {"UPDATE products SET stock = stock - 6 WHERE id = " + product, "ck_products_stock"},
             {"UPDATE products SET price = 0 WHERE id = " + product, "ck_products_price"},
             {insert_record("DONE"), "idempotency_records_status_check"},
         }) {
        EXPECT_EQ(outcome(bad), "23514 " + constraint) << bad;
    }
    EXPECT_EQ(db.number("SELECT count(*) FROM users"), 1);
    EXPECT_EQ(db.number("SELECT count(*) FROM products"), 1);
    EXPECT_EQ(db.exec("SELECT balance::TEXT || ' ' || (SELECT stock FROM products) FROM users"), "100 5");

    for (const auto& good : {
             "UPDATE users SET balance = balance - 100 WHERE id = " + user,
             insert_user("1000000000000000"),
             "UPDATE products SET stock = stock - 5 WHERE id = " + product,
             insert_product({"1", "0"}),
             insert_record("PROCESSING"),
             std::string("UPDATE idempotency_records SET status = 'FAILED'"),
         }) {
        EXPECT_EQ(outcome(good), "OK") << good;
    }
}

}  // namespace
}  // namespace ec::infra::pg
