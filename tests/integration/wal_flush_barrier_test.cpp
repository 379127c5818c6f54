// WalFlushBarrier against a real PostgreSQL: a caller is answered only once the WAL is flushed past
// the commit it made before calling (without a flush wait of its own), concurrent callers share rounds,
// and a round that cannot reach the database fails its callers instead of leaving them waiting.
#include "infra/postgres/wal_flush_barrier.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <future>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "infra/postgres/pg_errors.hpp"
#include "infra/postgres/pg_pool.hpp"
#include "ops/metrics.hpp"
#include "support/pg_admin.hpp"
#include "support/run_on_strand.hpp"
#include "support/test_env.hpp"

namespace ec::infra::pg {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
// Note: GCC 12 miscompiles some coroutine shapes, so the coroutines below never co_await inside a
// condition, never put a braced list inside a co_await expression and end with an explicit co_return.

class WalFlushBarrierTest : public ::testing::Test {
protected:
    static constexpr int kThreads = 4;

    void SetUp() override {
        table_ = "wal_flush_barrier_test_" + std::to_string(::getpid());
        ec::test::PgAdmin admin;
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
            ec::test::PgAdmin admin;
            admin.exec("DROP TABLE IF EXISTS " + table_);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
    }

    std::shared_ptr<PgPool> make_pool(const std::string& url, int size, const std::string& name,
                                      ops::Millis connection_timeout = 10s) {
        ops::DatasourceConfig ds;
        ds.url = url;
        ds.pool.maximum_pool_size = size;
        ds.pool.minimum_idle = 0;
        ds.pool.connection_timeout = connection_timeout;
        auto pool = PgPool::create(ioc_, ds, metrics_, name);
        pools_.push_back(pool);
        pool->start();
        return pool;
    }

    double counter(const std::string& name) const {
        const auto found = metrics_.actuator_metric(name, {});
        if (!found) return -1;
        return found->at("measurements").as_array().at(0).as_object().at("value").to_number<double>();
    }

    template <class F>
    int run_clients(int n, F& client, std::chrono::seconds limit) {
        return ec::test::run_clients(ioc_, n, client, limit);
    }

    asio::io_context ioc_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{ioc_.get_executor()};
    std::vector<std::thread> threads_;
    ops::MetricsRegistry metrics_;
    std::vector<std::shared_ptr<PgPool>> pools_;
    std::string table_;
};

TEST_F(WalFlushBarrierTest, EachCallerReturnsOnlyOnceTheWalIsFlushedPastItsCommitAndCallersShareRounds) {
    constexpr int kClients = 200;
    auto writers = make_pool(ec::test::test_env().pg_url, 10, "barrier-writers");
    auto barrier =
        WalFlushBarrier::create(make_pool(ec::test::test_env().pg_url, 1, "barrier-rounds"), metrics_);
    const std::string insert =
        "INSERT INTO " + table_ + " (id, note) SELECT $1, set_config('synchronous_commit', 'off', true)";
    std::atomic<int> committed{0};
    std::atomic<int> flushed_when_answered{0};
    std::atomic<int> unflushed_before_wait{0};
    auto client = [&](int i) -> asio::awaitable<void> {
        std::string commit_end;
        {
            auto conn = co_await writers->acquire();
            co_await conn->query(insert, static_cast<std::int64_t>(i));
            // The commit record ends at or before the insert position read after the commit returned.
            const auto lsn = co_await conn->query("SELECT pg_current_wal_insert_lsn()::text");
            commit_end = lsn.string(0, 0);
            const auto before =
                co_await conn->query("SELECT pg_current_wal_flush_lsn() < $1::pg_lsn", commit_end);
            if (before.boolean(0, 0)) ++unflushed_before_wait;
        }
        ++committed;
        co_await barrier->wait();
        auto conn = co_await writers->acquire();
        const auto after =
            co_await conn->query("SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn", commit_end);
        if (after.boolean(0, 0)) ++flushed_when_answered;
        co_return;
    };
    EXPECT_EQ(run_clients(kClients, client, 60s), 0);
    EXPECT_EQ(committed.load(), kClients);
    EXPECT_EQ(flushed_when_answered.load(), kClients)
        << "a caller was answered before its commit was durable";
    EXPECT_EQ(counter("pg.flush.barrier.commits"), kClients);
    const double rounds = counter("pg.flush.barrier.rounds");
    EXPECT_GE(rounds, 1);
    EXPECT_LT(rounds, kClients) << "no two callers shared a round";
    // Not asserted (the WAL writer may flush first), but it shows the wait had something to do.
    std::cout << "[          ] " << unflushed_before_wait.load() << " of " << kClients
              << " commits were not yet flushed when their caller started waiting; " << rounds
              << " rounds for " << kClients << " commits\n";
    ec::test::PgAdmin admin;
    EXPECT_EQ(admin.scalar("SELECT count(*) FROM " + table_), std::to_string(kClients));
}

TEST_F(WalFlushBarrierTest, ARoundThatCannotReachTheDatabaseFailsItsCallersAndLaterCallsStartNewRounds) {
    // Nothing listens on port 1: every round fails after the pool's connection timeout.
    auto barrier = WalFlushBarrier::create(
        make_pool("postgresql://postgres@127.0.0.1:1/none", 1, "barrier-unreachable", 300ms), metrics_);
    std::atomic<int> unavailable{0};
    auto client = [&](int) -> asio::awaitable<void> {
        try {
            co_await barrier->wait();
        } catch (const PgUnavailable&) {
            ++unavailable;
        }
        co_return;
    };
    EXPECT_EQ(run_clients(5, client, 30s), 0);
    EXPECT_EQ(unavailable.load(), 5) << "a caller was told its commit is durable";
    // The barrier is not stuck after a failed round: the next callers get rounds of their own.
    EXPECT_EQ(run_clients(3, client, 30s), 0);
    EXPECT_EQ(unavailable.load(), 8);
    EXPECT_GE(counter("pg.flush.barrier.rounds"), 2);
}

}  // namespace
}  // namespace ec::infra::pg
