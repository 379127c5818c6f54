#include "infra/postgres/pg_pool.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "infra/postgres/pg_errors.hpp"
#include "ops/metrics.hpp"

namespace ec::infra::pg {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {
double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}
}  // namespace

// Exactly one message is ever sent to a waiter, decided under the pool mutex: either a connection
// (by whoever returns one) or a timeout (by the waiter's timer). So a handed-over connection can
// never be lost to a race between the two.
struct PgPool::Waiter {
    Waiter(const asio::any_io_executor& ex, ops::CallSite w, bool cont)
        : channel(ex, 1), timer(ex), where(w), continuation(cont) {}
    asio::experimental::concurrent_channel<void(boost::system::error_code, PgConnection*)> channel;
    asio::steady_timer timer;
    ops::CallSite where;
    bool continuation;
};

// ---------------------------------------------------------------- Lease

Lease::Lease(std::shared_ptr<PgPool> pool, std::unique_ptr<PgConnection> conn)
    : pool_(std::move(pool)), conn_(std::move(conn)) {}
Lease::Lease(Lease&& other) noexcept = default;
Lease& Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        if (conn_ && pool_) pool_->release(std::move(conn_));
        pool_ = std::move(other.pool_);
        conn_ = std::move(other.conn_);
    }
    return *this;
}
Lease::~Lease() {
    if (conn_ && pool_) pool_->release(std::move(conn_));
}

// ---------------------------------------------------------------- PgPool

std::shared_ptr<PgPool> PgPool::create(asio::io_context& ioc, const ops::DatasourceConfig& config,
                                       ops::MetricsRegistry& metrics, std::string name) {
    std::shared_ptr<PgPool> pool(new PgPool(ioc, config, metrics, std::move(name)));
    pool->register_metrics();
    return pool;
}

PgPool::PgPool(asio::io_context& ioc, const ops::DatasourceConfig& config, ops::MetricsRegistry& metrics,
               std::string name)
    : ioc_(ioc), config_(config), metrics_(metrics), name_(std::move(name)) {
    // statement_timeout keeps a runaway statement from pinning a connection forever; the client-side
    // I/O timeout (a little longer) catches a server that stopped answering altogether.
    url_ = config_.url;
    url_ += (url_.find('?') == std::string::npos ? "?" : "&");
    url_ += "application_name=ecommerce&connect_timeout=" +
            std::to_string(std::max<long long>(
                1, duration_cast<std::chrono::seconds>(config_.pool.connection_timeout).count())) +
            "&options=-c%20statement_timeout%3D" + std::to_string(config_.statement_timeout.count());
    // Bound every wait on a connection without per-wait timers: unacknowledged data fails the
    // socket after tcp_user_timeout, a silent peer after keepalive idle + interval x count.
    url_ += "&keepalives=1&keepalives_idle=5&keepalives_interval=2&keepalives_count=3&tcp_user_timeout=" +
            std::to_string((config_.statement_timeout + milliseconds(5'000)).count());
}

PgPool::~PgPool() = default;

void PgPool::register_metrics() {
    const ops::Labels labels{{"pool", name_}};
    auto weak = weak_from_this();
    auto gauge = [&](const char* name, const char* help,
                     const std::function<double(const PoolStats&)>& pick) {
        metrics_.gauge_fn(name, help, labels, [weak, pick] {
            auto self = weak.lock();
            return self ? pick(self->stats()) : 0.0;
        });
    };
    gauge("hikaricp.connections", "Total connections", [](const PoolStats& s) { return s.total; });
    gauge("hikaricp.connections.active", "Active connections", [](const PoolStats& s) { return s.active; });
    gauge("hikaricp.connections.idle", "Idle connections", [](const PoolStats& s) { return s.idle; });
    gauge("hikaricp.connections.pending", "Threads awaiting connections",
          [](const PoolStats& s) { return s.waiting; });
    const double max = config_.pool.maximum_pool_size;
    const double min = config_.pool.minimum_idle;
    metrics_.gauge_fn("hikaricp.connections.max", "Max connections", labels, [max] { return max; });
    metrics_.gauge_fn("hikaricp.connections.min", "Min connections", labels, [min] { return min; });
    timeouts_ = &metrics_.counter("hikaricp.connections.timeout", "Connection timeout total count", labels);
    acquire_timer_ = &metrics_.timer("hikaricp.connections.acquire", "Connection acquire time", labels);
    usage_timer_ = &metrics_.timer("hikaricp.connections.usage", "Connection usage time", labels);
    creation_timer_ = &metrics_.timer("hikaricp.connections.creation", "Connection creation time", labels);
}

PoolStats PgPool::stats() const {
    std::lock_guard lock(mutex_);
    PoolStats s;
    s.total = total_;
    s.idle = static_cast<int>(idle_.size());
    s.active = total_ - s.idle;
    s.waiting = static_cast<int>(waiters_.size());
    return s;
}

void PgPool::start() {
    {
        std::lock_guard lock(mutex_);
        if (started_) return;
        started_ = true;
    }
    asio::co_spawn(ioc_, housekeeping(), asio::detached);
}

void PgPool::stop() {
    std::deque<Idle> idle;
    std::deque<std::shared_ptr<Waiter>> waiters;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        idle.swap(idle_);
        waiters.swap(waiters_);
        continuations_waiting_ = 0;
        total_ -= static_cast<int>(idle.size());
    }
    for (auto& w : waiters) w->channel.try_send(asio::error::operation_aborted, nullptr);
}

asio::awaitable<std::unique_ptr<PgConnection>> PgPool::open_connection() {
    const auto started = Clock::now();
    auto conn = co_await PgConnection::connect(ioc_.get_executor(), url_, config_.pool.connection_timeout);
    creation_timer_->record(seconds_since(started));
    co_return conn;
}

void PgPool::mark_active(const PgConnection& conn, ops::CallSite where) {
    active_.push_back(ActiveInfo{conn.id(), Clock::now(), where});
}

asio::awaitable<Lease> PgPool::acquire(AcquirePriority priority, ops::CallSite where) {
    const auto started = Clock::now();
    const auto executor = co_await asio::this_coro::executor;
    std::unique_ptr<PgConnection> got;
    std::vector<std::unique_ptr<PgConnection>> dead;
    bool create = false;
    std::shared_ptr<Waiter> waiter;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) throw PgUnavailable(name_ + " - pool is shut down");
        while (!idle_.empty()) {
            auto candidate = std::move(idle_.back().conn);
            idle_.pop_back();
            const bool too_old = Clock::now() - candidate->created_at() > config_.pool.max_lifetime;
            if (too_old || !candidate->probe_alive()) {
                --total_;
                dead.push_back(std::move(candidate));
                continue;
            }
            got = std::move(candidate);
            break;
        }
        if (got) {
            mark_active(*got, where);
        } else if (total_ + creating_ < config_.pool.maximum_pool_size) {
            ++creating_;
            create = true;
        } else {
            const bool continuation = priority == AcquirePriority::Continuation;
            waiter = std::make_shared<Waiter>(executor, where, continuation);
            if (continuation) {
                waiters_.insert(waiters_.begin() + continuations_waiting_, waiter);
                ++continuations_waiting_;
            } else {
                waiters_.push_back(waiter);
            }
        }
    }
    dead.clear();

    if (got) {
        acquire_timer_->record(seconds_since(started));
        co_return Lease(shared_from_this(), std::move(got));
    }

    if (create) {
        std::unique_ptr<PgConnection> conn;
        std::string failure;
        try {
            conn = co_await open_connection();
        } catch (const std::exception& e) {
            failure = e.what();
        }
        std::lock_guard lock(mutex_);
        --creating_;
        if (!conn) {
            timeouts_->increment();
            throw PgUnavailable(name_ + " - Connection is not available: " + failure);
        }
        ++total_;
        mark_active(*conn, where);
        acquire_timer_->record(seconds_since(started));
        co_return Lease(shared_from_this(), std::move(conn));
    }

    // Wait for a returned connection or the timeout, whichever the pool decides first.
    waiter->timer.expires_after(config_.pool.connection_timeout);
    waiter->timer.async_wait([weak = weak_from_this(), waiter](boost::system::error_code ec) {
        // Cancelled means served: skip the O(waiters) search under the pool mutex.
        if (ec == asio::error::operation_aborted) return;
        auto self = weak.lock();
        if (!self) return;
        bool timed_out = false;
        {
            std::lock_guard lock(self->mutex_);
            auto it = std::find(self->waiters_.begin(), self->waiters_.end(), waiter);
            if (it != self->waiters_.end()) {
                if ((*it)->continuation) --self->continuations_waiting_;
                self->waiters_.erase(it);
                timed_out = true;
            }
        }
        if (timed_out) waiter->channel.try_send(asio::error::timed_out, nullptr);
    });
    auto [ec, raw] = co_await waiter->channel.async_receive(asio::as_tuple(asio::use_awaitable));
    std::unique_ptr<PgConnection> conn(raw);
    // Served (or aborted) before the deadline: disarm the timer, or it would keep the io_context
    // busy (and the Waiter alive) for the rest of connection-timeout. (Only this coroutine touches
    // the timer object; its handler only looks at waiters_.)
    waiter->timer.cancel();
    if (!conn) {
        if (ec == asio::error::timed_out) {
            timeouts_->increment();
            throw PgUnavailable(name_ + " - Connection is not available, request timed out after " +
                                std::to_string(config_.pool.connection_timeout.count()) + "ms");
        }
        throw PgUnavailable(name_ + " - pool is shut down");
    }
    acquire_timer_->record(seconds_since(started));
    co_return Lease(shared_from_this(), std::move(conn));
}

void PgPool::hand_over(std::unique_ptr<PgConnection> conn) {
    std::shared_ptr<Waiter> waiter;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) {
            --total_;
        } else if (!waiters_.empty()) {
            waiter = std::move(waiters_.front());
            waiters_.pop_front();
            if (waiter->continuation) --continuations_waiting_;
            mark_active(*conn, waiter->where);
        } else {
            idle_.push_back(Idle{std::move(conn), Clock::now()});
            return;
        }
    }
    if (waiter) waiter->channel.try_send(boost::system::error_code{}, conn.release());
}

void PgPool::release(std::unique_ptr<PgConnection> conn) noexcept {
    // A lease ends in a destructor or a move: nothing may escape from there. Only an allocation can
    // fail in give_back; the connection is then closed, and the pool may count it as open until it
    // restarts (one slot short), which the log says rather than terminating the process.
    try {
        give_back(std::move(conn));
    } catch (const std::exception& e) {
        spdlog::error("{} - a returned connection was dropped: {}", name_, e.what());
    }
}

void PgPool::give_back(std::unique_ptr<PgConnection> conn) {
    bool drop = false;
    {
        std::lock_guard lock(mutex_);
        auto it = std::find_if(active_.begin(), active_.end(),
                               [&](const ActiveInfo& a) { return a.id == conn->id(); });
        if (it != active_.end()) {
            usage_timer_->record(seconds_since(it->since));
            *it = active_.back();
            active_.pop_back();
        }
        drop = stopped_ || conn->broken() || Clock::now() - conn->created_at() > config_.pool.max_lifetime;
        if (drop) --total_;
    }
    if (drop) {
        conn.reset();
        spawn_create();  // a waiter may now be owed a fresh connection
        return;
    }
    if (conn->in_transaction()) {
        // Returned mid-transaction (an exception skipped COMMIT): roll back before anyone reuses it.
        asio::co_spawn(
            ioc_,
            [self = shared_from_this(), c = std::move(conn)]() mutable -> asio::awaitable<void> {
                try {
                    co_await c->execute("ROLLBACK");
                } catch (...) {
                }
                if (c->broken() || c->in_transaction()) {
                    {
                        std::lock_guard lock(self->mutex_);
                        --self->total_;
                    }
                    c.reset();
                    self->spawn_create();
                } else {
                    self->hand_over(std::move(c));
                }
                co_return;
            },
            asio::detached);
        return;
    }
    hand_over(std::move(conn));
}

void PgPool::spawn_create() {
    {
        std::lock_guard lock(mutex_);
        if (stopped_ || waiters_.empty() || total_ + creating_ >= config_.pool.maximum_pool_size) return;
        ++creating_;
    }
    asio::co_spawn(ioc_, create_and_hand_over(), asio::detached);
}

asio::awaitable<void> PgPool::create_and_hand_over() {
    // The caller already counted this connection in creating_.
    auto self = shared_from_this();
    std::unique_ptr<PgConnection> conn;
    try {
        conn = co_await open_connection();
    } catch (const std::exception& e) {
        spdlog::debug("{} - cannot open a connection: {}", name_,
                      e.what());  // visible as 503s and pool stats
    }
    {
        std::lock_guard lock(mutex_);
        --creating_;
        if (conn) ++total_;
    }
    if (conn) hand_over(std::move(conn));
    co_return;
}

asio::awaitable<void> PgPool::housekeeping() {
    auto self = shared_from_this();
    asio::steady_timer timer(ioc_);
    auto last_stats = Clock::now();
    for (;;) {
        timer.expires_after(milliseconds(500));
        co_await timer.async_wait(asio::use_awaitable);
        std::vector<std::unique_ptr<PgConnection>> retired;
        int to_create = 0;
        const auto now = Clock::now();
        {
            std::lock_guard lock(mutex_);
            if (stopped_) break;
            const auto& pc = config_.pool;
            // Retire from the cold end (front): over-age connections always, idle-timeout ones only
            // while the pool keeps more than minimum-idle, as HikariCP does.
            for (auto it = idle_.begin(); it != idle_.end();) {
                const bool old = now - it->conn->created_at() > pc.max_lifetime;
                const bool idle_long = pc.minimum_idle < pc.maximum_pool_size &&
                                       now - it->since > pc.idle_timeout &&
                                       static_cast<int>(idle_.size()) > pc.minimum_idle;
                if (old || idle_long || !it->conn->probe_alive()) {
                    retired.push_back(std::move(it->conn));
                    it = idle_.erase(it);
                    --total_;
                } else {
                    ++it;
                }
            }
            const int want_idle = pc.minimum_idle - static_cast<int>(idle_.size()) - creating_;
            to_create = std::min(want_idle, pc.maximum_pool_size - total_ - creating_);
            if (to_create > 0) creating_ += to_create;
            if (pc.leak_detection_threshold.count() > 0) {
                for (auto& a : active_) {
                    if (!a.leak_reported && now - a.since > pc.leak_detection_threshold) {
                        a.leak_reported = true;
                        spdlog::warn(
                            "{} - Connection leak detection triggered for connection {} held for {}ms, "
                            "acquired at {}:{} ({})",
                            name_, a.id, duration_cast<milliseconds>(now - a.since).count(), a.where.file,
                            a.where.line, a.where.function);
                    }
                }
            }
        }
        retired.clear();
        for (int i = 0; i < to_create; ++i) asio::co_spawn(ioc_, create_and_hand_over(), asio::detached);
        if (now - last_stats >= config_.pool.stats_log_interval) {
            last_stats = now;
            const auto s = stats();
            spdlog::info("{} - Pool stats (total={}, active={}, idle={}, waiting={})", name_, s.total,
                         s.active, s.idle, s.waiting);
        }
    }
    co_return;
}

}  // namespace ec::infra::pg
