#pragma once
// WalFlushBarrier: one WAL flush shared by every commit made before it, so that a transaction can commit
// without waiting for a flush of its own (kCommitWithoutFlushWait) and still be answered only once it is
// durable.
//
// Why: on this project's machines a synchronous commit costs more CPU in waiting than its statements
// cost in work (the backend sleeps on the WAL write lock or in fdatasync and is woken again, per commit),
// and the backend's connection stays out of the pool for the whole flush. With the barrier, the
// transaction's backend answers at once and takes the next statement; the request's coroutine waits
// here instead, and one round — a tiny synchronously committed transaction on the barrier's own
// connection — flushes the WAL for everybody who arrived before it was sent (docs/architecture.md,
// "Durable answers with a shared flush").
//
// Why it is exact: WAL is inserted and flushed in order. A caller of wait() has seen its transaction's
// commit return, so that commit record is in the WAL before the round's statement is even sent; the
// round's commit record comes later, and its synchronous commit returns only when the WAL is flushed up
// to it. Callers arriving while a round is in flight wait for the next one.
//
// What it does not give: a transaction committed this way is visible to other sessions before it is
// durable (as with any asynchronous commit). Whatever is reported to anyone outside the database — an
// HTTP answer, an event published to Redis — must therefore pass wait() first, also when it only reads
// what such a transaction wrote (a replayed answer, a claimed outbox event).
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <mutex>
#include <vector>

namespace ec::ops {
class MetricsRegistry;
class Counter;
}  // namespace ec::ops

namespace ec::infra::pg {

class PgPool;

class WalFlushBarrier : public std::enable_shared_from_this<WalFlushBarrier> {
public:
    // `pool` serves the rounds only (one connection suffices: a round flushes for all waiting callers).
    static std::shared_ptr<WalFlushBarrier> create(std::shared_ptr<PgPool> pool,
                                                   ops::MetricsRegistry& metrics);

    // Returns once the WAL is flushed past every commit that returned before this call. Throws
    // PgUnavailable when the round fails (the database is unreachable or the flush timed out): the caller
    // cannot tell whether its commit survives and must not report it as done.
    boost::asio::awaitable<void> wait();

private:
    struct Waiter;
    WalFlushBarrier(std::shared_ptr<PgPool> pool, ops::MetricsRegistry& metrics);
    boost::asio::awaitable<void> run_rounds();

    std::shared_ptr<PgPool> pool_;
    ops::Counter* rounds_;
    ops::Counter* commits_;
    std::mutex mutex_;
    // Callers waiting for the next round; bounded by the requests in progress (server.max-connections).
    std::vector<std::shared_ptr<Waiter>> pending_;
    bool running_ = false;
};

}  // namespace ec::infra::pg
