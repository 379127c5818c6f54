#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
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
using ops::Millis;

// A connection. Its coroutine is the only code that reads, writes or closes the socket; other
// threads (the deadline sweep, shutdown) only ever shut the descriptor down, which the kernel makes
// safe and which ends the pending read or write with an error. The coroutine still runs on a strand
// of its own: resuming it through the strand (a post) instead of inline in the completion that woke
// it measured 13 % more paid orders/s under order + pay (bench/run.sh --only order_pay: 662 against
// 587), at no visible cost to the cached ranking read (docs/performance.md).
struct Server::Session {
    enum class State : int { Idle, Busy, Closing };

    Session(tcp::socket s, std::uint64_t i) : socket(std::move(s)), id(i) {}

    tcp::socket socket;
    std::uint64_t id;
    std::atomic<Clock::rep> deadline{Clock::time_point::max().time_since_epoch().count()};
    std::atomic<State> state{State::Idle};
    std::atomic<bool> timed_out{false};
    std::mutex fd_mutex;  // a shut-down by another thread never hits a closed (reused) descriptor
    bool closed = false;  // guarded by fd_mutex

    void expire_after(std::chrono::milliseconds d) {
        deadline.store((Clock::now() + d).time_since_epoch().count(), std::memory_order_relaxed);
    }
    bool expired(Clock::time_point now) const {
        return deadline.load(std::memory_order_relaxed) < now.time_since_epoch().count();
    }
    // From any thread: ends the pending read or write (both directions shut down).
    void abort() {
        std::lock_guard lock(fd_mutex);
        if (!closed) ::shutdown(socket.native_handle(), SHUT_RDWR);
    }
    void close() {
        std::lock_guard lock(fd_mutex);
        closed = true;
        boost::system::error_code ec;
        socket.close(ec);
    }
};

namespace {
std::string make_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::uint64_t v = rng();
    std::string id(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) id[static_cast<std::size_t>(i)] = kHex[v & 0xf];
    return id;
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
    asio::co_spawn(accept_strand_, sweep_loop(), asio::detached);
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
        asio::co_spawn(session->socket.get_executor(), run_session(session),
                       [this, id = session->id](std::exception_ptr e) {
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

// One pass over the open connections every sweep interval, shutting down those past their
// deadline: far cheaper than a timer armed and cancelled around every read and write.
asio::awaitable<void> Server::sweep_loop() {
    const auto interval =
        std::clamp(std::min(config_.request_timeout, config_.idle_timeout) / 4, Millis(10), Millis(500));
    asio::steady_timer timer(accept_strand_);
    boost::system::error_code ec;
    for (;;) {
        timer.expires_after(interval);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (stopping_ && active_.load() == 0) break;
        const auto now = Clock::now();
        std::vector<std::shared_ptr<Session>> expired;
        {
            std::lock_guard lock(sessions_mutex_);
            for (auto& [id, weak] : sessions_) {
                auto s = weak.lock();
                if (s && s->expired(now)) expired.push_back(std::move(s));
            }
        }
        for (auto& s : expired) {
            s->timed_out = true;
            s->abort();
        }
    }
    co_return;
}

namespace {
// Everything up to the body, in one buffer: the body goes out as a second buffer of the same write.
void serialize_head(Response& res, std::string& out) {
    if (res.find(bhttp::field::content_length) == res.end()) res.prepare_payload();
    out.clear();
    out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    const unsigned status = res.result_int();
    out += static_cast<char>('0' + status / 100 % 10);
    out += static_cast<char>('0' + status / 10 % 10);
    out += static_cast<char>('0' + status % 10);
    out += ' ';
    out += res.reason();
    out += "\r\n";
    for (const auto& field : res) {
        out += field.name_string();
        out += ": ";
        out += field.value();
        out += "\r\n";
    }
    out += "\r\n";
}

// Appends what the peer sent next; false (and `ec` set) on error, end of stream or shut-down.
asio::awaitable<bool> read_more(tcp::socket& socket, beast::flat_buffer& buffer,
                                boost::system::error_code& ec) {
    const auto n = co_await socket.async_read_some(buffer.prepare(16 * 1024),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    buffer.commit(n);
    co_return true;
}
}  // namespace

asio::awaitable<void> Server::run_session(std::shared_ptr<Session> session) {
    auto& socket = session->socket;
    // Room for a full header block plus read-ahead of pipelined requests.
    beast::flat_buffer buffer(std::max<std::size_t>(2 * config_.max_header_size, 64 * 1024));
    std::string head;  // the response head, its capacity reused across requests
    boost::system::error_code ec;
    bool linger = false;
    for (;;) {
        if (stopping_) break;
        if (buffer.size() == 0) {
            // Waiting for the next request on a keep-alive connection: the idle timeout applies.
            session->expire_after(config_.idle_timeout);
            const bool got = co_await read_more(socket, buffer, ec);
            if (!got) break;
        }
        // Shutdown closes idle connections only: whoever changes the state first decides.
        auto idle = Session::State::Idle;
        if (!session->state.compare_exchange_strong(idle, Session::State::Busy)) break;
        session->expire_after(config_.request_timeout);
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
            const bool got = co_await read_more(socket, buffer, ec);
            if (!got) break;
        }
        if (ec) break;
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(config_.max_body_size);
        parser.header_limit(static_cast<std::uint32_t>(config_.max_header_size));
        parser.eager(true);
        if (header_too_large) {
            ec = bhttp::error::header_limit;
        } else {
            // The header block is buffered whole; the body may need more reads.
            for (;;) {
                buffer.consume(parser.put(buffer.data(), ec));
                if (ec == bhttp::error::need_more) ec = {};
                if (ec || parser.is_done()) break;
                const bool got = co_await read_more(socket, buffer, ec);
                if (!got) break;
            }
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
        } else if (session->timed_out || ec == asio::error::eof || ec == asio::error::connection_reset ||
                   ec == asio::error::operation_aborted || ec == asio::error::broken_pipe) {
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
        serialize_head(res, head);
        session->expire_after(config_.request_timeout);
        const std::array<asio::const_buffer, 2> out{asio::buffer(head), asio::buffer(res.body())};
        co_await asio::async_write(socket, out, asio::redirect_error(asio::use_awaitable, ec));
        session->state = Session::State::Idle;
        if (ec || close_after) {
            linger = refused && !ec;
            break;
        }
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
    if (linger) {
        // Drain briefly so a client still sending (e.g. an oversized body) reads our response
        // instead of a connection reset.
        session->expire_after(std::chrono::seconds(2));
        std::size_t drained = 0;
        while (drained < 8 * 1024 * 1024) {
            buffer.clear();
            const bool got = co_await read_more(socket, buffer, ec);
            if (!got) break;
            drained += buffer.size();
        }
    }
    session->close();
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
        auto idle = Session::State::Idle;
        if (s->state.compare_exchange_strong(idle, Session::State::Closing)) s->abort();
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
