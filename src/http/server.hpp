#pragma once
// HTTP/1.1 server with C++20 coroutines on Asio and Beast's parser: one coroutine per connection on
// its own strand, keep-alive, pipelined requests answered in order, body/header limits, request and
// idle timeouts (deadlines checked by one sweep, not a timer per read), a connection cap and orderly
// shutdown (stop accepting, finish in-flight requests, close idle connections).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "http/router.hpp"
#include "ops/config.hpp"

namespace ec::ops {
class MetricsRegistry;
class Timer;
}  // namespace ec::ops

namespace ec::http {

class Server {
public:
    Server(boost::asio::io_context& ioc, const ops::ServerConfig& config, const Router& router,
           ops::MetricsRegistry& metrics);
    ~Server();

    // Binds and starts accepting; throws std::system_error when the port cannot be bound.
    void start();
    // Thread-safe. on_drained runs once every connection is closed or shutdown-timeout passed.
    void shutdown(std::function<void()> on_drained);
    std::uint16_t port() const { return port_; }
    int active_connections() const { return active_.load(); }

    // Runs one request through routing, the handler and error mapping (also used by tests).
    boost::asio::awaitable<Response> handle(const Request& req);

private:
    struct Session;
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> run_session(std::shared_ptr<Session> session);
    boost::asio::awaitable<void> sweep_loop();
    boost::asio::awaitable<void> drain(std::function<void()> on_drained);
    void record(const Route* route, std::string_view uri, bhttp::verb method, unsigned status,
                double seconds);

    boost::asio::io_context& ioc_;
    ops::ServerConfig config_;
    const Router& router_;
    ops::MetricsRegistry& metrics_;
    boost::asio::strand<boost::asio::io_context::executor_type> accept_strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::atomic<int> active_{0};
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> next_session_{1};
    std::mutex sessions_mutex_;
    std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions_;
    std::mutex timers_mutex_;
    std::unordered_map<std::uint64_t, ops::Timer*> timers_;  // (route, method, status) -> timer
};

}  // namespace ec::http
