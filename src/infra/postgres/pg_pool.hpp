#pragma once
// Connection pool with HikariCP semantics and names (maximum-pool-size, minimum-idle,
// connection-timeout, idle-timeout, max-lifetime, leak-detection-threshold) and the hikaricp_*
// metrics. Thread-safe: acquire() may be called from any strand; waiters are handed connections
// in FIFO order through concurrent channels, so no loop thread ever blocks on the pool.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "infra/postgres/pg_connection.hpp"
#include "ops/call_site.hpp"
#include "ops/config.hpp"

namespace ec::ops {
class MetricsRegistry;
class Counter;
class Timer;
}  // namespace ec::ops

namespace ec::infra::pg {

class PgPool;

// Exclusive use of one pooled connection; returns it on destruction. A connection returned inside
// an open transaction is rolled back before reuse, so an exception can never leak a transaction.
class Lease {
public:
    Lease() = default;
    Lease(std::shared_ptr<PgPool> pool, std::unique_ptr<PgConnection> conn);
    Lease(Lease&&) noexcept;
    Lease& operator=(Lease&&) noexcept;
    ~Lease();
    PgConnection* operator->() const { return conn_.get(); }
    PgConnection& operator*() const { return *conn_; }
    explicit operator bool() const { return static_cast<bool>(conn_); }

private:
    std::shared_ptr<PgPool> pool_;
    std::unique_ptr<PgConnection> conn_;
};

// A continuation is the second half of work that already went through the queue once and holds
// resources meanwhile (the completion of a payment whose balance and stock are reserved): it is
// served before every new request, so a started payment does not queue a second time behind new
// ones. Continuations are bounded by the work in progress, so they cannot starve new requests.
enum class AcquirePriority { New, Continuation };

struct PoolStats {
    int total = 0;
    int active = 0;
    int idle = 0;
    int waiting = 0;
};

class PgPool : public std::enable_shared_from_this<PgPool> {
public:
    static std::shared_ptr<PgPool> create(boost::asio::io_context& ioc, const ops::DatasourceConfig& config,
                                          ops::MetricsRegistry& metrics, std::string name = "HikariPool-1");
    ~PgPool();

    // Starts housekeeping: keeps minimum-idle connections, retires idle/old ones, detects leaks and
    // logs pool stats. Non-blocking; connections are created in the background.
    void start();
    void stop();

    // Waits at most connection-timeout for a connection; throws PgUnavailable (counted in
    // hikaricp_connections_timeout_total) otherwise. `where` is the acquiring call site, logged by
    // leak detection.
    boost::asio::awaitable<Lease> acquire(ops::CallSite where = ops::CallSite::current()) {
        return acquire(AcquirePriority::New, where);
    }
    boost::asio::awaitable<Lease> acquire(AcquirePriority priority,
                                          ops::CallSite where = ops::CallSite::current());

    // Runs `body` inside BEGIN/COMMIT on one connection; ROLLBACK when it throws (then rethrows).
    template <typename F>
    auto transaction(F body, ops::CallSite where = ops::CallSite::current())
        -> decltype(body(std::declval<PgConnection&>()));

    PoolStats stats() const;
    const std::string& name() const { return name_; }
    const ops::DatasourceConfig& config() const { return config_; }

private:
    friend class Lease;
    struct Waiter;
    struct ActiveInfo {
        std::uint64_t id;
        std::chrono::steady_clock::time_point since;
        ops::CallSite where;
        bool leak_reported = false;
    };

    PgPool(boost::asio::io_context& ioc, const ops::DatasourceConfig& config, ops::MetricsRegistry& metrics,
           std::string name);
    void release(std::unique_ptr<PgConnection> conn) noexcept;  // give_back, for Lease
    void give_back(std::unique_ptr<PgConnection> conn);
    void hand_over(std::unique_ptr<PgConnection> conn);  // to the first waiter, else idle
    void discard_locked();
    void spawn_create();
    boost::asio::awaitable<void> create_and_hand_over();  // opens one counted connection, hands it over
    boost::asio::awaitable<std::unique_ptr<PgConnection>> open_connection();
    boost::asio::awaitable<void> housekeeping();
    void register_metrics();
    void mark_active(const PgConnection& conn, ops::CallSite where);

    boost::asio::io_context& ioc_;
    ops::DatasourceConfig config_;
    ops::MetricsRegistry& metrics_;
    std::string name_;
    std::string url_;

    mutable std::mutex mutex_;
    struct Idle {
        std::unique_ptr<PgConnection> conn;
        std::chrono::steady_clock::time_point since;
    };
    std::deque<Idle> idle_;                        // back = most recently used
    std::deque<std::shared_ptr<Waiter>> waiters_;  // FIFO, but continuations first:
    int continuations_waiting_ = 0;                // the first ones in waiters_
    std::vector<ActiveInfo> active_;
    int total_ = 0;     // open connections (idle + active)
    int creating_ = 0;  // connections being opened, counted against maximum-pool-size
    bool stopped_ = false;
    bool started_ = false;

    ops::Counter* timeouts_ = nullptr;
    ops::Timer* acquire_timer_ = nullptr;
    ops::Timer* usage_timer_ = nullptr;
    ops::Timer* creation_timer_ = nullptr;
};

}  // namespace ec::infra::pg

#include "infra/postgres/pg_pool_impl.hpp"
