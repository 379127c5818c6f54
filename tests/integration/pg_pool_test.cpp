// PgPool against a real PostgreSQL (started by scripts/test.sh): bounded concurrency under load,
// acquire timeouts and their metric, transactions and leases returned mid-transaction, SQLSTATEs of
// server errors, recovery from a PostgreSQL restart and outage, and leak detection.
#include "infra/postgres/pg_pool.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "infra/postgres/pg_errors.hpp"
#include "ops/metrics.hpp"
#include "support/pg_admin.hpp"
#include "support/run_on_strand.hpp"
#include "support/test_env.hpp"

namespace ec::infra::pg {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
// Note: GCC 12 miscompiles some coroutine shapes, so the coroutines below never co_await inside a
// condition, never put a braced list inside a co_await expression and end with an explicit co_return.

// Backends opened by pools (the pool sets application_name=ecommerce) in the test database.
constexpr const char* kPoolBackends =
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ecommerce' AND datname = "
    "current_database()";

std::string with_param(const std::string& url, const std::string& kv) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + kv;
}

long long ms(Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A plain blocking libpq connection outside the pool under test: setup, checking what was really
// committed, and watching pg_stat_activity.
using Admin = ec::test::PgAdmin;

// Runs its action when the scope ends, whether assertions passed or not.
template <class F>
class ScopeExit {
public:
    explicit ScopeExit(F f) : f_(std::move(f)) {}
    ~ScopeExit() { f_(); }
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;

private:
    F f_;
};

// Outage tests stop PostgreSQL; whatever happens, the next test must find it running again.
void ensure_pg_running() {
    const std::string cmd = ec::test::test_env().services_ctl + " pg start";
    if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << "could not start PostgreSQL again: " << cmd;
}

void update_max(std::atomic<int>& max, int value) {
    int seen = max.load();
    while (value > seen && !max.compare_exchange_weak(seen, value)) {
    }
}

// The application's threading model in miniature: one io_context run by several threads, every
// client a coroutine on its own strand.
class PgPoolTest : public ::testing::Test {
protected:
    static constexpr int kThreads = 4;

    void SetUp() override {
        table_ = "pg_pool_test_" + std::to_string(::getpid());
        Admin admin;
        admin.exec("DROP TABLE IF EXISTS " + table_ + "; CREATE TABLE " + table_ +
                   " (id BIGINT PRIMARY KEY, note TEXT NOT NULL)");
        for (int i = 0; i < kThreads; ++i) threads_.emplace_back([this] { ioc_.run(); });
    }

    void TearDown() override {
        for (auto& p : pools_) p->stop();
        pools_.clear();
        work_.reset();
        for (auto& t : threads_) t.join();
        try {
            Admin admin;
            admin.exec("DROP TABLE IF EXISTS " + table_);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
    }

    static ops::PoolConfig pool_config(int max, int min_idle, ops::Millis connection_timeout) {
        ops::PoolConfig c;
        c.maximum_pool_size = max;
        c.minimum_idle = min_idle;
        c.connection_timeout = connection_timeout;
        return c;
    }

    std::shared_ptr<PgPool> make_pool(const ops::PoolConfig& pc, const std::string& name,
                                      ops::Millis statement_timeout = 10s, bool start = true) {
        ops::DatasourceConfig ds;
        ds.url = ec::test::test_env().pg_url;
        ds.statement_timeout = statement_timeout;
        ds.pool = pc;
        auto pool = PgPool::create(ioc_, ds, metrics_, name);
        pools_.push_back(pool);
        if (start) pool->start();
        return pool;
    }

    template <class F>
    auto run(F&& f, std::chrono::seconds limit = 30s) {
        return ec::test::run_on_strand(ioc_, std::forward<F>(f), limit);
    }

    template <class F>
    int run_clients(int n, F& client, std::chrono::seconds limit) {
        return ec::test::run_clients(ioc_, n, client, limit);
    }

    // A measurement of /actuator/metrics/{name}?tag=pool:{pool} ("COUNT", "VALUE"), -1 if absent.
    double metric(const std::string& name, const std::string& pool, const std::string& statistic) const {
        const auto found = metrics_.actuator_metric(name, {{"pool", pool}});
        if (!found) return -1;
        for (const auto& m : found->at("measurements").as_array()) {
            const auto& o = m.as_object();
            if (o.at("statistic").as_string() == statistic) return o.at("value").to_number<double>();
        }
        return -1;
    }

    // Earlier tests' pools are stopped, but their backends exit asynchronously.
    static void wait_for_no_pool_backends(Admin& admin) {
        const auto deadline = Clock::now() + 5s;
        while (admin.number(kPoolBackends) != 0 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
        ASSERT_EQ(admin.number(kPoolBackends), 0) << "backends of earlier pools are still connected";
    }

    static void expect_quiescent(const PgPool& pool) {
        const auto s = pool.stats();
        EXPECT_EQ(s.active, 0) << pool.name();
        EXPECT_EQ(s.waiting, 0) << pool.name();
        EXPECT_EQ(s.idle, s.total) << pool.name();
        EXPECT_LE(s.total, pool.config().pool.maximum_pool_size) << pool.name();
    }

    asio::io_context ioc_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{ioc_.get_executor()};
    std::vector<std::thread> threads_;
    ops::MetricsRegistry metrics_;
    std::vector<std::shared_ptr<PgPool>> pools_;
    std::string table_;
};

TEST_F(PgPoolTest, TwoHundredAcquirersShareTenConnections) {
    Admin admin;
    wait_for_no_pool_backends(admin);
    if (HasFatalFailure()) return;
    auto pool = make_pool(pool_config(10, 2, 10s), "pool-load");

    // Sample the pool's own accounting and the server's view while the load runs.
    std::atomic<bool> sampling{true};
    std::atomic<int> max_total{0}, max_server{0}, server_samples{0};
    std::atomic<bool> inconsistent{false};
    std::string sampler_error;
    std::thread pool_sampler([&] {
        while (sampling) {
            const auto s = pool->stats();
            update_max(max_total, s.total);
            if (s.idle < 0 || s.active < 0 || s.waiting < 0 || s.idle + s.active != s.total)
                inconsistent = true;
            std::this_thread::sleep_for(500us);
        }
    });
    std::thread server_sampler([&] {
        try {
            Admin watcher;
            while (sampling) {
                update_max(max_server, static_cast<int>(watcher.number(kPoolBackends)));
                ++server_samples;
                std::this_thread::sleep_for(2ms);
            }
        } catch (const std::exception& e) {
            sampler_error = e.what();
        }
    });

    constexpr int kClients = 200;
    std::mutex mutex;
    std::set<std::uint64_t> held;  // connection ids currently leased
    std::vector<std::string> errors;
    std::atomic<int> served{0}, wrong_result{0}, shared_connection{0}, in_use{0}, max_in_use{0};
    auto client = [&](int i) -> asio::awaitable<void> {
        try {
            Lease lease = co_await pool->acquire();
            const auto id = lease->id();
            {
                std::lock_guard lock(mutex);
                if (!held.insert(id).second) ++shared_connection;
            }
            update_max(max_in_use, ++in_use);
            auto r = co_await lease->query("SELECT $1::int, pg_sleep(0.02)", i);
            if (r.rows() != 1 || r.int64(0, 0) != i) ++wrong_result;
            --in_use;
            {
                std::lock_guard lock(mutex);
                held.erase(id);
            }
            ++served;
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex);
            errors.push_back(e.what());
        }
        co_return;
    };
    const auto started = Clock::now();
    EXPECT_EQ(run_clients(kClients, client, 60s), 0);
    const auto elapsed = Clock::now() - started;
    sampling = false;
    pool_sampler.join();
    server_sampler.join();

    EXPECT_EQ(served.load(), kClients);
    EXPECT_TRUE(errors.empty()) << errors.size() << " failures, first: " << errors.front();
    EXPECT_EQ(wrong_result.load(), 0) << "a client got another client's result";
    EXPECT_EQ(shared_connection.load(), 0) << "one connection was leased to two clients at once";
    EXPECT_LE(max_in_use.load(), 10);
    EXPECT_EQ(max_in_use.load(), 10) << "200 waiting clients should have kept all 10 connections busy";
    EXPECT_LE(max_total.load(), 10);
    EXPECT_FALSE(inconsistent.load()) << "stats() must always satisfy idle + active == total";
    // 200 x 20 ms over 10 connections is 0.4 s of server time; generous for sanitizer builds.
    EXPECT_LT(elapsed, 20s) << ms(elapsed) << " ms";

    EXPECT_TRUE(sampler_error.empty()) << sampler_error;
    EXPECT_GT(server_samples.load(), 0);
    EXPECT_LE(max_server.load(), 10) << "the server saw more pooled connections than maximum-pool-size";
    EXPECT_GE(max_server.load(), 1);

    expect_quiescent(*pool);
    EXPECT_EQ(pool->stats().total, 10) << "connections are kept for reuse, not closed after each lease";
    // Every connection the pool counts is a live backend on the server.
    EXPECT_EQ(admin.number(kPoolBackends), pool->stats().total);
    EXPECT_EQ(metric("hikaricp.connections.timeout", "pool-load", "COUNT"), 0);
    EXPECT_EQ(metric("hikaricp.connections.acquire", "pool-load", "COUNT"), kClients);
    EXPECT_EQ(metric("hikaricp.connections.usage", "pool-load", "COUNT"), kClients);
    EXPECT_EQ(metric("hikaricp.connections.active", "pool-load", "VALUE"), 0);
    EXPECT_EQ(metric("hikaricp.connections.pending", "pool-load", "VALUE"), 0);
    EXPECT_EQ(metric("hikaricp.connections", "pool-load", "VALUE"), 10);
}

TEST_F(PgPoolTest, AcquirersTimeOutWhenConnectionsAreHeldLongerThanTheTimeout) {
    auto pool = make_pool(pool_config(10, 2, 300ms), "pool-timeout");

    constexpr int kClients = 200;
    std::mutex mutex;
    std::vector<std::string> other_errors;
    std::atomic<int> served{0}, timed_out{0};
    std::atomic<long long> min_wait_us{std::numeric_limits<long long>::max()}, max_wait_us{0};
    auto client = [&](int) -> asio::awaitable<void> {
        const auto started = Clock::now();
        try {
            Lease lease = co_await pool->acquire();
            co_await lease->query("SELECT pg_sleep(0.2)");
            ++served;
        } catch (const PgUnavailable&) {
            ++timed_out;
            const long long waited =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
            std::lock_guard lock(mutex);
            min_wait_us = std::min(min_wait_us.load(), waited);
            max_wait_us = std::max(max_wait_us.load(), waited);
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex);
            other_errors.push_back(e.what());
        }
        co_return;
    };
    EXPECT_EQ(run_clients(kClients, client, 60s), 0);

    EXPECT_TRUE(other_errors.empty())
        << other_errors.size() << " unexpected failures, first: " << other_errors.front();
    EXPECT_EQ(served.load() + timed_out.load(), kClients);
    EXPECT_GT(timed_out.load(), 0) << "10 connections held 200 ms cannot serve 200 clients within 300 ms";
    EXPECT_GE(served.load(), 10);
    // A waiter gives up after connection-timeout: not earlier, and not much later.
    EXPECT_GE(min_wait_us.load(), 295'000);
    EXPECT_LE(max_wait_us.load(), 2'300'000);

    EXPECT_EQ(metric("hikaricp.connections.timeout", "pool-timeout", "COUNT"), timed_out.load());
    const std::string prometheus = metrics_.render_prometheus();
    EXPECT_NE(prometheus.find("hikaricp_connections_timeout_total{pool=\"pool-timeout\"} " +
                              std::to_string(timed_out.load())),
              std::string::npos)
        << prometheus;

    // No connection was lost in the hand-over/timeout races: all are back and idle.
    expect_quiescent(*pool);
    EXPECT_EQ(metric("hikaricp.connections.active", "pool-timeout", "VALUE"), 0);
    EXPECT_EQ(metric("hikaricp.connections.pending", "pool-timeout", "VALUE"), 0);
    EXPECT_EQ(metric("hikaricp.connections.idle", "pool-timeout", "VALUE"),
              metric("hikaricp.connections", "pool-timeout", "VALUE"));
    // And the pool still serves at once.
    const auto started = Clock::now();
    const auto one = run([&]() -> asio::awaitable<std::int64_t> {
        Lease lease = co_await pool->acquire();
        auto r = co_await lease->query("SELECT 1");
        co_return r.int64(0, 0);
    });
    EXPECT_EQ(one, 1);
    EXPECT_LT(Clock::now() - started, 300ms);
}

TEST_F(PgPoolTest, TransactionRollsBackWhenTheBodyThrowsAndCommitsOtherwise) {
    // One connection, so every step below reuses the connection the transaction ran on.
    auto pool = make_pool(pool_config(1, 1, 5s), "pool-tx");
    Admin admin;
    const std::string insert = "INSERT INTO " + table_ + " (id, note) VALUES ($1, $2) RETURNING id";
    const std::string count = "SELECT count(*) FROM " + table_ + " WHERE id = $1";

    std::uint64_t tx_connection = 0;
    std::int64_t seen_inside = -1;
    EXPECT_THROW(run([&]() -> asio::awaitable<void> {
                     co_await pool->transaction([&](PgConnection& c) -> asio::awaitable<void> {
                         tx_connection = c.id();
                         co_await c.query(insert, 1, "rolled back");
                         auto r = co_await c.query(count, 1);
                         seen_inside = r.int64(0, 0);
                         throw std::runtime_error("boom");
                         co_return;
                     });
                     co_return;
                 }),
                 std::runtime_error);
    EXPECT_EQ(seen_inside, 1) << "the insert ran inside the transaction";
    EXPECT_EQ(admin.number("SELECT count(*) FROM " + table_ + " WHERE id = 1"), 0);

    // The connection is reusable and no longer in a transaction.
    run([&]() -> asio::awaitable<void> {
        Lease lease = co_await pool->acquire();
        EXPECT_EQ(lease->id(), tx_connection);
        EXPECT_FALSE(lease->in_transaction());
        EXPECT_FALSE(lease->broken());
        auto r = co_await lease->query(count, 1);
        EXPECT_EQ(r.int64(0, 0), 0);
        co_return;
    });

    // A committed transaction returns the body's value and its row is there for everyone.
    const auto id = run([&]() -> asio::awaitable<std::int64_t> {
        co_return co_await pool->transaction([&](PgConnection& c) -> asio::awaitable<std::int64_t> {
            auto r = co_await c.query(insert, 2, "committed");
            co_return r.int64(0, 0);
        });
    });
    EXPECT_EQ(id, 2);
    EXPECT_EQ(admin.exec("SELECT note FROM " + table_ + " WHERE id = 2"), "committed");

    // A server error inside the body: the PgError comes out unchanged, earlier statements of the
    // transaction are rolled back, and the connection is back in a clean state.
    std::string sqlstate;
    try {
        run([&]() -> asio::awaitable<void> {
            co_await pool->transaction([&](PgConnection& c) -> asio::awaitable<void> {
                co_await c.query(insert, 3, "rolled back too");
                co_await c.query(insert, 2, "duplicate");
                co_return;
            });
            co_return;
        });
    } catch (const PgError& e) {
        sqlstate = e.sqlstate();
    }
    EXPECT_EQ(sqlstate, "23505");
    EXPECT_EQ(admin.number("SELECT count(*) FROM " + table_ + " WHERE id = 3"), 0);
    run([&]() -> asio::awaitable<void> {
        Lease lease = co_await pool->acquire();
        EXPECT_EQ(lease->id(), tx_connection);
        EXPECT_FALSE(lease->in_transaction());
        auto r = co_await lease->query("SELECT count(*) FROM " + table_);
        EXPECT_EQ(r.int64(0, 0), 1);
        co_return;
    });
    expect_quiescent(*pool);
    EXPECT_EQ(pool->stats().total, 1);
}

TEST_F(PgPoolTest, LeaseDroppedInsideATransactionIsRolledBackBeforeReuse) {
    auto pool = make_pool(pool_config(1, 1, 5s), "pool-dropped");
    Admin admin;
    const std::string insert = "INSERT INTO " + table_ + " (id, note) VALUES ($1, $2)";
    const std::string count = "SELECT count(*) FROM " + table_ + " WHERE id = $1";

    run([&]() -> asio::awaitable<void> {
        std::uint64_t first = 0;
        {
            Lease lease = co_await pool->acquire();
            first = lease->id();
            co_await lease->execute("BEGIN");
            co_await lease->query(insert, 10, "never committed");
            EXPECT_TRUE(lease->in_transaction());
        }  // dropped without COMMIT
        {
            // The only connection comes back, rolled back, not replaced.
            Lease lease = co_await pool->acquire();
            EXPECT_EQ(lease->id(), first);
            EXPECT_FALSE(lease->in_transaction());
            auto r = co_await lease->query(count, 10);
            EXPECT_EQ(r.int64(0, 0), 0);

            // Same for a transaction aborted by an error (idle in failed transaction).
            co_await lease->execute("BEGIN");
            co_await lease->query(insert, 11, "never committed either");
            std::string state;
            try {
                co_await lease->query("SELECT 1 / $1::int", 0);
            } catch (const PgError& e) {
                state = e.sqlstate();
            }
            EXPECT_EQ(state, "22012");
            EXPECT_TRUE(lease->in_transaction());
        }
        Lease lease = co_await pool->acquire();
        EXPECT_EQ(lease->id(), first);
        EXPECT_FALSE(lease->in_transaction());
        auto r = co_await lease->query(count, 11);
        EXPECT_EQ(r.int64(0, 0), 0);
        co_return;
    });
    EXPECT_EQ(admin.number("SELECT count(*) FROM " + table_ + " WHERE id IN (10, 11)"), 0);
    // The same through an exception unwinding a coroutine that holds a lease mid-transaction.
    EXPECT_THROW(run([&]() -> asio::awaitable<void> {
                     Lease lease = co_await pool->acquire();
                     co_await lease->execute("BEGIN");
                     co_await lease->query(insert, 12, "unwound");
                     throw std::runtime_error("request failed");
                     co_return;
                 }),
                 std::runtime_error);
    const auto in_tx = run([&]() -> asio::awaitable<bool> {
        Lease lease = co_await pool->acquire();
        co_return lease->in_transaction();
    });
    EXPECT_FALSE(in_tx);
    EXPECT_EQ(admin.number("SELECT count(*) FROM " + table_ + " WHERE id = 12"), 0);
    expect_quiescent(*pool);
    EXPECT_EQ(pool->stats().total, 1);
}

TEST_F(PgPoolTest, ServerErrorsCarryTheirSqlstateAndLeaveTheConnectionUsable) {
    auto pool = make_pool(pool_config(2, 1, 5s), "pool-errors");
    const std::string insert = "INSERT INTO " + table_ + " (id, note) VALUES ($1, $2)";

    struct Outcome {
        std::string unique_state, syntax_state, simple_syntax_state, wrong_type;
        bool unique_flag = false, unavailable_flag = true;
        std::int64_t after = 0;
        std::string text_after;
        bool broken = true, in_tx = true;
    };
    const Outcome o = run([&]() -> asio::awaitable<Outcome> {
        Outcome out;
        Lease lease = co_await pool->acquire();
        co_await lease->query(insert, 20, "first");
        try {
            co_await lease->query(insert, 20, "second");
        } catch (const PgUnavailable&) {
            out.wrong_type = "PgUnavailable for a unique violation";
        } catch (const PgError& e) {
            out.unique_state = e.sqlstate();
            out.unique_flag = e.is_unique_violation();
            out.unavailable_flag = e.is_unavailable();
        }
        try {
            co_await lease->query("SELEC 1");  // fails in the prepare step
        } catch (const PgError& e) {
            out.syntax_state = e.sqlstate();
        }
        try {
            co_await lease->execute("SELECT 1; SELEC 2");  // simple-query protocol
        } catch (const PgError& e) {
            out.simple_syntax_state = e.sqlstate();
        }
        auto r = co_await lease->query("SELECT $1::int + 1", 41);
        out.after = r.int64(0, 0);
        auto t = co_await lease->query("SELECT $1::text || '!'", "still fine");
        out.text_after = t.string(0, 0);
        out.broken = lease->broken();
        out.in_tx = lease->in_transaction();
        co_return out;
    });
    EXPECT_EQ(o.wrong_type, "");
    EXPECT_EQ(o.unique_state, "23505");
    EXPECT_TRUE(o.unique_flag);
    EXPECT_FALSE(o.unavailable_flag);
    EXPECT_EQ(o.syntax_state, "42601");
    EXPECT_EQ(o.simple_syntax_state, "42601");
    EXPECT_EQ(o.after, 42);
    EXPECT_EQ(o.text_after, "still fine!");
    EXPECT_FALSE(o.broken);
    EXPECT_FALSE(o.in_tx);
    expect_quiescent(*pool);

    // statement_timeout reaches the server through the connection options: 57014, an "unavailable"
    // error, and the connection survives it.
    auto slow = make_pool(pool_config(1, 1, 5s), "pool-statement-timeout", 300ms);
    std::string state;
    bool unavailable = false;
    const auto started = Clock::now();
    const auto after = run([&]() -> asio::awaitable<std::int64_t> {
        Lease lease = co_await slow->acquire();
        try {
            co_await lease->query("SELECT pg_sleep(5)");
        } catch (const PgError& e) {
            state = e.sqlstate();
            unavailable = e.is_unavailable();
        }
        auto r = co_await lease->query("SELECT 7");
        co_return r.int64(0, 0);
    });
    EXPECT_EQ(state, "57014");
    EXPECT_TRUE(unavailable);
    EXPECT_EQ(after, 7);
    EXPECT_LT(Clock::now() - started, 3s);
    expect_quiescent(*slow);
}

TEST_F(PgPoolTest, IdleConnectionsTerminatedByTheServerAreReplacedBeforeUse) {
    // Not started: no housekeeping probes in the background, so acquire() alone must notice that
    // its idle connections were terminated (the server sent FATAL 57P01, then closed them).
    auto pool = make_pool(pool_config(2, 0, 5s), "pool-terminated", 10s, /*start=*/false);
    std::mutex mutex;
    std::set<std::int64_t> old_pids, new_pids;
    std::vector<std::string> errors;
    auto client = [&](std::set<std::int64_t>& pids) {
        return [&](int) -> asio::awaitable<void> {
            try {
                Lease lease = co_await pool->acquire();
                auto r = co_await lease->query("SELECT pg_backend_pid(), pg_sleep(0.05)");
                std::lock_guard lock(mutex);
                pids.insert(r.int64(0, 0));
            } catch (const std::exception& e) {
                std::lock_guard lock(mutex);
                errors.push_back(e.what());
            }
            co_return;
        };
    };
    auto warm = client(old_pids);
    EXPECT_EQ(run_clients(2, warm, 30s), 0);
    ASSERT_EQ(old_pids.size(), 2u);
    ASSERT_EQ(pool->stats().idle, 2);

    Admin admin;
    for (const auto pid : old_pids) {
        // With a timeout, pg_terminate_backend waits until the backend is gone.
        EXPECT_EQ(admin.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 5000)"), "t");
    }
    auto again = client(new_pids);
    EXPECT_EQ(run_clients(2, again, 30s), 0);
    EXPECT_TRUE(errors.empty()) << errors.size()
                                << " queries failed on a terminated connection, first: " << errors.front();
    EXPECT_EQ(new_pids.size(), 2u);
    for (const auto pid : new_pids) EXPECT_EQ(old_pids.count(pid), 0u) << "reused terminated backend " << pid;
    expect_quiescent(*pool);
    EXPECT_EQ(pool->stats().total, 2);
    EXPECT_EQ(metric("hikaricp.connections.timeout", "pool-terminated", "COUNT"), 0);
}

TEST_F(PgPoolTest, RecoversFromAPostgresRestartWithoutBeingRecreated) {
    constexpr int kMax = 4;
    auto pool = make_pool(pool_config(kMax, 2, 2s), "pool-restart");

    // Warm the pool: four connections open and idle.
    auto warm = [&](int) -> asio::awaitable<void> {
        Lease lease = co_await pool->acquire();
        co_await lease->query("SELECT pg_sleep(0.05)");
        co_return;
    };
    EXPECT_EQ(run_clients(kMax, warm, 30s), 0);
    EXPECT_EQ(pool->stats().total, kMax);

    ScopeExit restart_guard(ensure_pg_running);
    std::atomic<bool> restart_done{false};
    std::atomic<int> restart_rc{-1};
    std::thread restarter([&] {
        std::this_thread::sleep_for(200ms);  // let the workers get going
        restart_rc = std::system((ec::test::test_env().services_ctl + " pg restart").c_str());
        restart_done = true;
    });

    // Workers query in a loop across the restart until each has 10 successes in a row after it.
    std::mutex mutex;
    std::map<std::string, int> failures_during;  // kind -> count
    std::vector<std::string> failures_after;
    std::atomic<int> ok_during{0}, ok_after{0}, recovered{0};
    auto worker = [&](int) -> asio::awaitable<void> {
        const auto executor = co_await asio::this_coro::executor;
        const auto deadline = Clock::now() + 25s;
        int in_a_row = 0;
        while (Clock::now() < deadline) {
            const bool after = restart_done.load();
            std::string failure;
            try {
                Lease lease = co_await pool->acquire();
                co_await lease->query("SELECT pg_sleep(0.01)");
            } catch (const PgUnavailable& e) {
                failure = std::string("PgUnavailable: ") + e.what();
            } catch (const PgError& e) {
                failure = "PgError " + e.sqlstate() + ": " + e.what();
            } catch (const std::exception& e) {
                failure = std::string("other: ") + e.what();
            }
            if (failure.empty()) {
                ++(after ? ok_after : ok_during);
                if (after && ++in_a_row >= 10) {
                    ++recovered;
                    break;
                }
                continue;
            }
            in_a_row = 0;
            {
                std::lock_guard lock(mutex);
                if (after) {
                    failures_after.push_back(failure);
                } else {
                    ++failures_during[failure.substr(0, failure.find(':'))];
                }
            }
            asio::steady_timer pause(executor, 50ms);
            co_await pause.async_wait(asio::use_awaitable);
        }
        co_return;
    };
    EXPECT_EQ(run_clients(kMax, worker, 60s), 0);
    restarter.join();
    EXPECT_EQ(restart_rc.load(), 0) << "services-ctl pg restart failed";
    EXPECT_EQ(recovered.load(), kMax) << "every worker must get answers again after the restart";
    EXPECT_GT(ok_during.load(), 0) << "the workers were running before the restart";
    for (const auto& [kind, n] : failures_during) {
        EXPECT_EQ(kind, "PgUnavailable") << n << " failures of an unexpected kind during the restart";
    }
    // Stale connections are detected before use, so nothing fails once PostgreSQL is back.
    EXPECT_TRUE(failures_after.empty())
        << failures_after.size() << " failures after the restart, first: " << failures_after.front();
    expect_quiescent(*pool);
    EXPECT_GE(pool->stats().total, 1);
    // The pool counts exactly its live backends (polled: housekeeping may be topping up idle
    // ones).
    Admin admin;
    const auto deadline = Clock::now() + 3s;
    while (admin.number(kPoolBackends) != pool->stats().total && Clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(admin.number(kPoolBackends), pool->stats().total);
}

TEST_F(PgPoolTest, StoppedPostgresFailsWithinTheConnectionTimeoutThenRecovers) {
    constexpr auto kTimeout = 1000ms;
    auto pool = make_pool(pool_config(3, 1, kTimeout), "pool-outage");
    auto select_one = [&]() -> asio::awaitable<std::int64_t> {
        Lease lease = co_await pool->acquire();
        auto r = co_await lease->query("SELECT 1");
        co_return r.int64(0, 0);
    };
    EXPECT_EQ(run(select_one), 1);

    ScopeExit restart_guard(ensure_pg_running);
    ec::test::services_ctl("pg", "stop");
    if (HasFatalFailure()) return;

    // One caller at a time: refused at once, or at worst after connection-timeout.
    int failed = 0;
    for (int i = 0; i < 3; ++i) {
        const auto started = Clock::now();
        try {
            run(select_one);
            ADD_FAILURE() << "a query succeeded while PostgreSQL was stopped";
        } catch (const PgUnavailable&) {
            ++failed;
        }
        EXPECT_LT(Clock::now() - started, kTimeout + 1500ms);
    }
    EXPECT_EQ(failed, 3);

    // More callers than connections: the ones that must queue give up after connection-timeout.
    std::atomic<int> unavailable{0};
    std::atomic<long long> max_wait_ms{0};
    std::mutex mutex;
    std::vector<std::string> other_errors;
    auto client = [&](int) -> asio::awaitable<void> {
        const auto started = Clock::now();
        try {
            Lease lease = co_await pool->acquire();
            co_await lease->query("SELECT 1");
        } catch (const PgUnavailable&) {
            ++unavailable;
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex);
            other_errors.push_back(e.what());
        }
        std::lock_guard lock(mutex);
        max_wait_ms = std::max(max_wait_ms.load(), ms(Clock::now() - started));
        co_return;
    };
    EXPECT_EQ(run_clients(8, client, 30s), 0);
    EXPECT_EQ(unavailable.load(), 8);
    EXPECT_TRUE(other_errors.empty()) << other_errors.front();
    EXPECT_LT(max_wait_ms.load(), ms(kTimeout + 2000ms));
    EXPECT_EQ(metric("hikaricp.connections.timeout", "pool-outage", "COUNT"), 3 + 8);
    auto s = pool->stats();
    EXPECT_EQ(s.active, 0);
    EXPECT_EQ(s.waiting, 0);

    ec::test::services_ctl("pg", "start");
    if (HasFatalFailure()) return;
    const auto deadline = Clock::now() + 10s;
    bool back = false;
    while (!back && Clock::now() < deadline) {
        try {
            back = run(select_one) == 1;
        } catch (const PgUnavailable&) {
            std::this_thread::sleep_for(100ms);
        }
    }
    EXPECT_TRUE(back) << "the same pool must work again once PostgreSQL is back";
    auto concurrent = [&](int) -> asio::awaitable<void> {
        Lease lease = co_await pool->acquire();
        co_await lease->query("SELECT pg_sleep(0.02)");
        co_return;
    };
    EXPECT_EQ(run_clients(6, concurrent, 30s), 0);
    expect_quiescent(*pool);
}

TEST_F(PgPoolTest, ServedWaitersLeaveNoTimerBehind) {
    // An io_context of its own, without a work guard: run() returns once nothing is pending. A
    // waiter served long before its connection-timeout must not keep it busy until that deadline.
    asio::io_context ioc;
    ops::DatasourceConfig ds;
    ds.url = ec::test::test_env().pg_url;
    ds.pool = pool_config(1, 1, 10s);
    auto pool = PgPool::create(ioc, ds, metrics_, "pool-drain");
    pool->start();
    constexpr int kClients = 5;  // one gets the connection, four wait for it
    std::atomic<int> done{0}, served{0};
    for (int i = 0; i < kClients; ++i) {
        asio::co_spawn(
            asio::make_strand(ioc),
            [&]() -> asio::awaitable<void> {
                Lease lease = co_await pool->acquire();
                co_await lease->query("SELECT pg_sleep(0.02)");
                co_return;
            },
            [&](std::exception_ptr e) {
                if (!e) ++served;
                if (++done == kClients) pool->stop();
            });
    }
    const auto started = Clock::now();
    std::thread second([&] { ioc.run(); });
    ioc.run();
    second.join();
    const auto elapsed = Clock::now() - started;
    EXPECT_EQ(served.load(), kClients);
    // Queries and housekeeping's exit take well under a second; a leftover timer takes 10 s.
    EXPECT_LT(elapsed, 3s) << ms(elapsed) << " ms until the io_context ran out of work";
}

TEST_F(PgPoolTest, ContinuationsAreServedBeforeNewWaitersInTheirOwnOrder) {
    // One connection, held while the waiters queue up one by one in a known order.
    auto pool = make_pool(pool_config(1, 1, 400ms), "pool-priority");
    std::optional<Lease> held = run([&]() -> asio::awaitable<Lease> {
        Lease lease = co_await pool->acquire();
        co_return lease;
    });
    std::mutex mutex;
    std::vector<std::string> served;
    std::vector<std::string> failed;
    std::atomic<int> finished{0};
    auto spawn = [&](std::string name, AcquirePriority priority) {
        asio::co_spawn(
            asio::make_strand(ioc_),
            [&, name, priority]() -> asio::awaitable<void> {
                try {
                    Lease lease = co_await pool->acquire(priority);
                    std::lock_guard lock(mutex);
                    served.push_back(name);
                } catch (const PgUnavailable&) {
                    std::lock_guard lock(mutex);
                    failed.push_back(name);
                }
                co_return;
            },
            [&](const std::exception_ptr&) { ++finished; });
    };
    auto wait_until = [&](auto done, const char* what) {
        const auto deadline = Clock::now() + 5s;
        while (!done() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
        ASSERT_TRUE(done()) << what;
    };

    // A continuation that times out leaves the queue: the next continuation still goes first.
    spawn("C0", AcquirePriority::Continuation);
    wait_until([&] { return finished.load() == 1; }, "C0 did not time out");
    const std::vector<std::pair<std::string, AcquirePriority>> queue = {{"N1", AcquirePriority::New},
                                                                        {"C1", AcquirePriority::Continuation},
                                                                        {"N2", AcquirePriority::New},
                                                                        {"C2", AcquirePriority::Continuation},
                                                                        {"N3", AcquirePriority::New}};
    for (std::size_t i = 0; i < queue.size(); ++i) {
        spawn(queue[i].first, queue[i].second);
        wait_until([&] { return pool->stats().waiting == static_cast<int>(i + 1); }, "waiter not queued");
    }
    held.reset();  // hands the connection to the first waiter
    wait_until([&] { return finished.load() == 6; }, "waiters not served");

    std::lock_guard lock(mutex);
    EXPECT_EQ(failed, std::vector<std::string>{"C0"});
    EXPECT_EQ(served, (std::vector<std::string>{"C1", "C2", "N1", "N2", "N3"}));
    expect_quiescent(*pool);
}

TEST_F(PgPoolTest, LeakDetectionLogsTheCallSiteOfALeaseHeldTooLong) {
    // Capture log lines: a logger with the current sinks plus a ring buffer becomes the default.
    auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(512);
    auto previous = spdlog::default_logger();
    std::vector<spdlog::sink_ptr> sinks(previous->sinks().begin(), previous->sinks().end());
    sinks.push_back(ring);
    auto capturing = std::make_shared<spdlog::logger>("pg-pool-test", sinks.begin(), sinks.end());
    capturing->set_level(std::min(previous->level(), spdlog::level::warn));
    spdlog::set_default_logger(capturing);
    ScopeExit restore([previous] { spdlog::set_default_logger(previous); });

    auto config = pool_config(2, 1, 5s);
    config.leak_detection_threshold = 200ms;
    auto leaky = make_pool(config, "pool-leak");
    config.leak_detection_threshold = 0ms;  // off
    auto quiet = make_pool(config, "pool-no-leak-detection");

    int acquire_line = 0;
    run([&]() -> asio::awaitable<void> {
        Lease held = co_await leaky->acquire();
        acquire_line = __LINE__ - 1;
        Lease also_held = co_await quiet->acquire();
        const auto executor = co_await asio::this_coro::executor;
        asio::steady_timer hold(executor, 1s);
        co_await hold.async_wait(asio::use_awaitable);
        co_return;
    });
    leaky->stop();
    quiet->stop();

    std::vector<std::string> reports;
    for (const auto& line : ring->last_formatted()) {
        if (line.find("Connection leak detection triggered") != std::string::npos) reports.push_back(line);
    }
    ASSERT_EQ(reports.size(), 1u) << "one report for the one leaked lease, however long it is held";
    EXPECT_NE(reports[0].find("pool-leak"), std::string::npos) << reports[0];
    EXPECT_NE(reports[0].find("pg_pool_test.cpp:" + std::to_string(acquire_line)), std::string::npos)
        << reports[0] << " should name the acquiring line " << acquire_line;
    EXPECT_NE(reports[0].find("[warning]"), std::string::npos) << reports[0];
}

}  // namespace
}  // namespace ec::infra::pg
