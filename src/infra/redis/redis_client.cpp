#include "infra/redis/redis_client.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "infra/redis/redis_connection.hpp"
#include "infra/redis/sha1.hpp"
#include "ops/circuit_breaker.hpp"
#include "ops/metrics.hpp"

namespace ec::infra::redis {

namespace asio = boost::asio;
using detail::Connection;

struct RedisClient::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::io_context& ioc, const ops::RedisConfig& config, ops::CircuitBreaker& breaker,
         ops::MetricsRegistry& metrics)
        : breaker(breaker) {
        auto settings = std::make_shared<detail::ConnectionSettings>(detail::parse_redis_url(config.url));
        settings->timeout = config.timeout;
        const int pool_size = std::max(1, config.pool_size);
        for (int i = 0; i < pool_size; ++i)
            connections.push_back(std::make_shared<Connection>(ioc, settings, i));

        const char* help = "Redis commands by outcome";
        success = &metrics.counter("redis.commands", help, {{"result", "success"}});
        error_reply = &metrics.counter("redis.commands", help, {{"result", "error_reply"}});
        unavailable = &metrics.counter("redis.commands", help, {{"result", "unavailable"}});
        rejected = &metrics.counter("redis.commands", help, {{"result", "rejected"}});
    }

    // Gauges registered after construction so they can hold a weak reference: the registry
    // usually outlives the client and must not read a destroyed one.
    void register_gauges(ops::MetricsRegistry& metrics) {
        std::weak_ptr<Impl> weak = weak_from_this();
        metrics.gauge_fn("redis.connections.active", "Redis connections currently established", {}, [weak] {
            auto self = weak.lock();
            if (!self) return 0.0;
            double n = 0;
            for (const auto& c : self->connections) n += c->connected() ? 1 : 0;
            return n;
        });
        metrics.gauge_fn("redis.commands.pending", "Redis commands sent or queued and not yet answered", {},
                         [weak] {
                             auto self = weak.lock();
                             if (!self) return 0.0;
                             double n = 0;
                             for (const auto& c : self->connections) n += static_cast<double>(c->pending());
                             return n;
                         });
    }

    // Round-robin over the connected connections; a dead or saturated one is skipped rather than
    // failing the call while another connection could take it.
    std::shared_ptr<Connection> pick(std::string& why_not) {
        const std::size_t n = connections.size();
        const std::size_t first = next.fetch_add(1, std::memory_order_relaxed);
        bool any_connected = false;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& c = connections[(first + i) % n];
            if (!c->connected()) continue;
            any_connected = true;
            if (c->try_reserve()) return c;
        }
        why_not = stopped.load()  ? "redis client stopped"
                  : any_connected ? "redis overloaded: too many pending commands"
                                  : "redis not connected";
        return nullptr;
    }

    // `args` is read before the first suspension only, so callers may pass a temporary.
    asio::awaitable<Reply> execute(const std::vector<std::string>& args) {
        std::string formatted = detail::format_command(args);
        if (!breaker.try_acquire()) {
            rejected->increment();
            throw RedisUnavailable("redis circuit breaker open");
        }
        std::string why_not;
        auto conn = pick(why_not);
        if (!conn) {
            breaker.on_failure();
            unavailable->increment();
            throw RedisUnavailable(why_not);
        }
        try {
            Reply reply =
                co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, Reply)>(
                    [](auto handler, std::shared_ptr<Connection> c, std::string cmd) {
                        c->submit(std::move(cmd), Connection::Handler(std::move(handler)));
                    },
                    asio::use_awaitable, std::move(conn), std::move(formatted));
            breaker.on_success();
            (reply.is_error() ? error_reply : success)->increment();
            co_return reply;
        } catch (...) {
            // Only RedisUnavailable is expected here, but any failure must release a half-open
            // trial slot, or the breaker would stay half-open forever.
            breaker.on_failure();
            unavailable->increment();
            throw;
        }
    }

    ops::CircuitBreaker& breaker;
    std::vector<std::shared_ptr<Connection>> connections;
    std::atomic<std::size_t> next{0};
    std::atomic<bool> started{false};
    std::atomic<bool> stopped{false};
    ops::Counter* success = nullptr;
    ops::Counter* error_reply = nullptr;
    ops::Counter* unavailable = nullptr;
    ops::Counter* rejected = nullptr;
};

RedisClient::RedisClient(asio::io_context& ioc, const ops::RedisConfig& config, ops::CircuitBreaker& breaker,
                         ops::MetricsRegistry& metrics)
    : impl_(std::make_shared<Impl>(ioc, config, breaker, metrics)) {
    impl_->register_gauges(metrics);
}

RedisClient::~RedisClient() {
    stop();
}

void RedisClient::start() {
    if (impl_->stopped.load() || impl_->started.exchange(true)) return;
    for (auto& c : impl_->connections) c->start();
}

void RedisClient::stop() {
    if (impl_->stopped.exchange(true)) return;
    for (auto& c : impl_->connections) c->stop();
}

asio::awaitable<Reply> RedisClient::command(std::vector<std::string> args) {
    auto impl = impl_;  // the client may be destroyed while this call is suspended
    co_return co_await impl->execute(args);
}

asio::awaitable<Reply> RedisClient::eval(const LuaScript& script, std::vector<std::string> keys,
                                         std::vector<std::string> args) {
    std::vector<std::string> cmd;
    cmd.reserve(3 + keys.size() + args.size());
    cmd.emplace_back("EVALSHA");
    cmd.push_back(script.sha1.empty() ? sha1_hex(script.source) : script.sha1);
    cmd.push_back(std::to_string(keys.size()));
    for (auto& k : keys) cmd.push_back(std::move(k));
    for (auto& a : args) cmd.push_back(std::move(a));

    auto impl = impl_;
    Reply reply = co_await impl->execute(cmd);
    if (reply.is_error() && reply.str.starts_with("NOSCRIPT")) {
        // First use since a Redis restart or SCRIPT FLUSH: EVAL runs it and caches it again.
        cmd[0] = "EVAL";
        cmd[1] = script.source;
        reply = co_await impl->execute(cmd);
    }
    co_return reply;
}

asio::awaitable<bool> RedisClient::ping() {
    try {
        auto impl = impl_;
        std::vector<std::string> args{"PING"};  // GCC 12: no braced list inside co_await
        const Reply reply = co_await impl->execute(args);
        const bool pong = reply.type == Reply::Type::Status && reply.str == "PONG";
        co_return pong;
    } catch (const RedisUnavailable&) {
        co_return false;
    }
}

bool RedisClient::connected() const {
    for (const auto& c : impl_->connections) {
        if (c->connected()) return true;
    }
    return false;
}

}  // namespace ec::infra::redis
