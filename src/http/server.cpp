#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <random>

#include "http/request_context.hpp"
#include "http/responses.hpp"
#include "ops/metrics.hpp"

namespace ec::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using domain::ErrorCode;
using Clock = std::chrono::steady_clock;

struct Server::Session {
    Session(tcp::socket s, std::uint64_t i) : stream(std::move(s)), id(i) {}
    beast::tcp_stream stream;
    std::uint64_t id;
    bool busy = false;  // touched only on the session's strand
};

namespace {
std::string make_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

// A client-supplied id is kept only if it is short and printable, so it is safe to log and echo.
bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

const char* outcome_of(unsigned status) {
    if (status < 200) return "INFORMATIONAL";
    if (status < 300) return "SUCCESS";
    if (status < 400) return "REDIRECTION";
    if (status < 500) return "CLIENT_ERROR";
    return "SERVER_ERROR";
}
}  // namespace

Server::Server(asio::io_context& ioc, const ops::ServerConfig& config, const Router& router,
               ops::MetricsRegistry& metrics)
    : ioc_(ioc),
      config_(config),
      router_(router),
      metrics_(metrics),
      accept_strand_(asio::make_strand(ioc)),
      acceptor_(accept_strand_) {}

Server::~Server() = default;

void Server::start() {
    const tcp::endpoint ep(asio::ip::make_address(config_.address), config_.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    metrics_.gauge_fn("http.server.connections.active", "Open HTTP connections", {},
                      [this] { return static_cast<double>(active_.load()); });
    asio::co_spawn(accept_strand_, accept_loop(), asio::detached);
    spdlog::info("HTTP server listening on {}:{}", config_.address, port_);
}

asio::awaitable<void> Server::accept_loop() {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket = co_await acceptor_.async_accept(asio::make_strand(ioc_),
                                                             asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted) co_return;
            // EMFILE and friends: back off briefly instead of spinning.
            spdlog::warn("accept failed: {}", ec.message());
            asio::steady_timer t(accept_strand_, std::chrono::milliseconds(50));
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        if (active_.load() >= config_.max_connections) {
            // Over the cap: refuse cheaply rather than queueing unbounded work.
            socket.close(ec);
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        ++active_;
        auto session = std::make_shared<Session>(std::move(socket), next_session_++);
        {
            std::lock_guard lock(sessions_mutex_);
            sessions_.emplace(session->id, session);
        }
        auto executor = session->stream.get_executor();
        asio::co_spawn(executor, run_session(session), [this, id = session->id](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    spdlog::error("session error: {}", ex.what());
                }
            }
            {
                std::lock_guard lock(sessions_mutex_);
                sessions_.erase(id);
            }
            --active_;
        });
    }
}

asio::awaitable<void> Server::run_session(std::shared_ptr<Session> session) {
    auto& stream = session->stream;
    // Room for a full header block plus read-ahead of pipelined requests.
    beast::flat_buffer buffer(std::max<std::size_t>(2 * config_.max_header_size, 64 * 1024));
    boost::system::error_code ec;
    bool linger = false;
    for (;;) {
        if (stopping_) break;
        if (buffer.size() == 0) {
            // Waiting for the next request on a keep-alive connection: the idle timeout applies.
            stream.expires_after(config_.idle_timeout);
            const auto n = co_await stream.async_read_some(buffer.prepare(16 * 1024),
                                                           asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
            buffer.commit(n);
        }
        session->busy = true;
        stream.expires_after(config_.request_timeout);
        // Beast's header_limit does not count fields parsed from an earlier read, so a header block
        // split across reads could exceed it; insist on the whole block within the limit ourselves.
        bool header_too_large = false;
        for (;;) {
            const auto data = buffer.data();
            const std::string_view view(static_cast<const char*>(data.data()), data.size());
            const auto end = view.find("\r\n\r\n");
            if (end != std::string_view::npos) {
                header_too_large = end + 4 > config_.max_header_size;
                break;
            }
            if (view.size() >= config_.max_header_size) {
                header_too_large = true;
                break;
            }
            const auto n = co_await stream.async_read_some(buffer.prepare(16 * 1024),
                                                           asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
            buffer.commit(n);
        }
        if (ec) break;
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(config_.max_body_size);
        parser.header_limit(static_cast<std::uint32_t>(config_.max_header_size));
        if (header_too_large) {
            ec = bhttp::error::header_limit;
        } else {
            co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        }
        Response res;
        bool close_after = false;
        bool refused = false;  // answered an error before reading the whole request
        if (ec == bhttp::error::body_limit) {
            res = error_response(
                ErrorCode::PayloadTooLarge,
                "Request body exceeds the limit of " + std::to_string(config_.max_body_size) + " bytes");
            close_after = refused = true;
        } else if (ec == bhttp::error::header_limit) {
            res = error_response(
                bhttp::status::request_header_fields_too_large, ErrorCode::InvalidInput,
                "Request headers exceed the limit of " + std::to_string(config_.max_header_size) + " bytes");
            close_after = refused = true;
        } else if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
                   ec == asio::error::eof || ec == asio::error::connection_reset ||
                   ec == asio::error::operation_aborted) {
            break;
        } else if (ec) {
            res = error_response(ErrorCode::InvalidInput, "Malformed HTTP request: " + ec.message());
            close_after = refused = true;
        } else {
            const auto& req = parser.get();
            res = co_await handle(req);
            close_after = !req.keep_alive();
        }
        if (refused) res.set("X-Request-Id", make_request_id());  // answered before handle(): still tagged
        if (stopping_) close_after = true;
        res.keep_alive(!close_after);
        stream.expires_after(config_.request_timeout);
        co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        session->busy = false;
        if (ec || close_after) {
            linger = refused && !ec;
            break;
        }
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (linger) {
        // Drain briefly so a client still sending (e.g. an oversized body) reads our response
        // instead of a connection reset.
        stream.expires_after(std::chrono::seconds(2));
        std::size_t drained = 0;
        char sink[16 * 1024];
        while (drained < 8 * 1024 * 1024) {
            const auto n = co_await stream.async_read_some(asio::buffer(sink),
                                                           asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
            drained += n;
        }
    }
    stream.socket().close(ec);
    co_return;
}

void Server::record(const Route* route, std::string_view uri, bhttp::verb method, unsigned status,
                    double seconds) {
    // An integer key keeps the per-request lookup free of string building.
    const std::uint64_t key = (static_cast<std::uint64_t>(route ? route->index + 1 : 0) << 40) |
                              (static_cast<std::uint64_t>(method) << 16) | status;
    ops::Timer* timer = nullptr;
    {
        std::lock_guard lock(timers_mutex_);
        auto it = timers_.find(key);
        if (it != timers_.end()) timer = it->second;
    }
    if (timer == nullptr) {
        timer = &metrics_.timer("http.server.requests", "HTTP server request latency",
                                {{"method", std::string(bhttp::to_string(method))},
                                 {"uri", std::string(uri)},
                                 {"status", std::to_string(status)},
                                 {"outcome", outcome_of(status)}});
        std::lock_guard lock(timers_mutex_);
        timers_.emplace(key, timer);
    }
    timer->record(seconds);
}

asio::awaitable<Response> Server::handle(const Request& req) {
    const auto started = Clock::now();
    std::string request_id;
    if (auto it = req.find("X-Request-Id"); it != req.end() && acceptable_request_id(it->value())) {
        request_id = std::string(it->value());
    } else {
        request_id = make_request_id();
    }
    const std::string_view target = req.target();
    const auto qpos = target.find('?');
    const std::string_view path = target.substr(0, qpos);
    const std::string_view query =
        qpos == std::string_view::npos ? std::string_view() : target.substr(qpos + 1);

    auto match = router_.match(req.method(), path);
    Response res;
    std::string_view uri = "NOT_FOUND";
    switch (match.kind) {
        case RouteMatch::Kind::NotFound:
            res =
                error_response(ErrorCode::RouteNotFound, "No route for " + std::string(req.method_string()) +
                                                             " " + std::string(path.substr(0, 200)));
            break;
        case RouteMatch::Kind::MethodNotAllowed:
            uri = match.route->pattern;
            res =
                error_response(ErrorCode::MethodNotAllowed, "Method " + std::string(req.method_string()) +
                                                                " is not allowed on " + match.route->pattern);
            res.set(bhttp::field::allow, match.allow);
            break;
        case RouteMatch::Kind::BadParameter:
            uri = match.route->pattern;
            res = error_response(ErrorCode::InvalidInput, match.error);
            break;
        case RouteMatch::Kind::Found: {
            uri = match.route->pattern;
            RequestContext ctx(req, *match.route, std::move(match.params), query, request_id);
            std::exception_ptr failure;
            try {
                res = co_await match.route->handler(ctx);
            } catch (...) {
                failure = std::current_exception();
            }
            if (failure) res = response_for_exception(failure, request_id);
            break;
        }
    }
    res.version(req.version());
    res.set("X-Request-Id", request_id);
    const auto status = res.result_int();
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    record(match.route, uri, req.method(), status, seconds);
    if (status >= 500) {
        spdlog::warn("[{}] {} {} -> {}", request_id, req.method_string(), target.substr(0, 200), status);
    } else {
        spdlog::debug("[{}] {} {} -> {} ({:.3f} ms)", request_id, req.method_string(), target.substr(0, 200),
                      status, seconds * 1e3);
    }
    co_return res;
}

void Server::shutdown(std::function<void()> on_drained) {
    if (stopping_.exchange(true)) return;
    spdlog::info("HTTP server shutting down: no new connections, finishing in-flight requests");
    asio::post(accept_strand_, [this] {
        boost::system::error_code ec;
        acceptor_.close(ec);
    });
    std::vector<std::shared_ptr<Session>> sessions;
    {
        std::lock_guard lock(sessions_mutex_);
        for (auto& [id, weak] : sessions_) {
            if (auto s = weak.lock()) sessions.push_back(std::move(s));
        }
    }
    for (auto& s : sessions) {
        // Idle keep-alive connections are closed now; busy ones close after their response.
        asio::post(s->stream.get_executor(), [s] {
            if (!s->busy) s->stream.cancel();
        });
    }
    asio::co_spawn(ioc_, drain(std::move(on_drained)), asio::detached);
}

asio::awaitable<void> Server::drain(std::function<void()> on_drained) {
    const auto deadline = Clock::now() + config_.shutdown_timeout;
    asio::steady_timer t(ioc_);
    while (active_.load() > 0 && Clock::now() < deadline) {
        t.expires_after(std::chrono::milliseconds(20));
        co_await t.async_wait(asio::use_awaitable);
    }
    if (active_.load() > 0) spdlog::warn("shutdown timeout: {} connections still open", active_.load());
    spdlog::info("HTTP server drained");
    on_drained();
    co_return;
}

}  // namespace ec::http
