#include "infra/postgres/wal_flush_barrier.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "infra/postgres/pg_errors.hpp"
#include "infra/postgres/pg_pool.hpp"
#include "ops/metrics.hpp"

namespace ec::infra::pg {

namespace asio = boost::asio;

namespace {
// A synchronous commit waits for the flush only if its transaction wrote WAL (V007's note), and a
// transactional logical message is the smallest such write: one WAL record, no table, no row lock that
// two instances' rounds would queue on. It is as durable as any synchronous commit on the server.
constexpr const char* kFlushRound = "SELECT pg_logical_emit_message(true, 'ec-flush-barrier', '')";
}  // namespace

// One message per waiter: the round's outcome.
struct WalFlushBarrier::Waiter {
    explicit Waiter(const asio::any_io_executor& ex) : channel(ex, 1) {}
    asio::experimental::concurrent_channel<void(boost::system::error_code)> channel;
};

std::shared_ptr<WalFlushBarrier> WalFlushBarrier::create(std::shared_ptr<PgPool> pool,
                                                         ops::MetricsRegistry& metrics) {
    return std::shared_ptr<WalFlushBarrier>(new WalFlushBarrier(std::move(pool), metrics));
}

WalFlushBarrier::WalFlushBarrier(std::shared_ptr<PgPool> pool, ops::MetricsRegistry& metrics)
    : pool_(std::move(pool)),
      rounds_(&metrics.counter("pg.flush.barrier.rounds", "WAL flush rounds of the flush barrier")),
      commits_(&metrics.counter("pg.flush.barrier.commits",
                                "Commits acknowledged after a shared WAL flush of the flush barrier")) {}

asio::awaitable<void> WalFlushBarrier::wait() {
    const auto executor = co_await asio::this_coro::executor;
    auto waiter = std::make_shared<Waiter>(executor);
    bool start = false;
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(waiter);
        start = !running_;
        running_ = true;
    }
    if (start) asio::co_spawn(executor, shared_from_this()->run_rounds(), asio::detached);
    auto [ec] = co_await waiter->channel.async_receive(asio::as_tuple(asio::use_awaitable));
    if (ec) throw PgUnavailable("could not confirm that the commit is durable: " + ec.message());
    co_return;
}

asio::awaitable<void> WalFlushBarrier::run_rounds() {
    auto self = shared_from_this();  // the barrier lives as long as a round is in flight
    for (;;) {
        std::vector<std::shared_ptr<Waiter>> batch;
        {
            std::lock_guard lock(mutex_);
            if (pending_.empty()) {
                running_ = false;
                co_return;
            }
            batch.swap(pending_);
        }
        // Bounded like every statement: the pool's connection-timeout, the server's statement_timeout and
        // the connection's tcp_user_timeout.
        boost::system::error_code ec;
        try {
            auto conn = co_await pool_->acquire();
            co_await conn->execute(kFlushRound);
        } catch (const std::exception& e) {
            spdlog::warn("WAL flush barrier: the round failed ({}); {} commit(s) are answered as unavailable",
                         e.what(), batch.size());
            ec = asio::error::connection_aborted;
        }
        rounds_->increment();
        commits_->increment(static_cast<double>(batch.size()));
        for (auto& w : batch) w->channel.try_send(ec);
    }
}

}  // namespace ec::infra::pg
