#include "infra/redis/redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <stdexcept>

namespace ec::infra::redis::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kInitialBackoff = 100ms;
constexpr auto kMaxBackoff = 2s;
constexpr std::size_t kReadChunk = 64 * 1024;
// A burst of big commands must not pin megabytes per connection for the rest of its life.
constexpr std::size_t kKeepBufferCapacity = 1024 * 1024;

struct ReplyDeleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};

Reply to_reply(const redisReply& r) {
    Reply out;
    switch (r.type) {
        case REDIS_REPLY_STRING:
            out.type = Reply::Type::String;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = Reply::Type::Status;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = Reply::Type::Error;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = Reply::Type::Integer;
            out.integer = r.integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = Reply::Type::Array;
            out.elements.reserve(r.elements);
            for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(to_reply(*r.element[i]));
            break;
        default:
            out.type = Reply::Type::Nil;
            break;
    }
    return out;
}

std::exception_ptr unavailable(const std::string& reason) {
    return std::make_exception_ptr(RedisUnavailable(reason));
}

}  // namespace

ConnectionSettings parse_redis_url(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw std::invalid_argument("invalid redis url: " + parsed.error().message());
    const auto& u = *parsed;
    if (u.scheme() != "redis") {
        throw std::invalid_argument(
            "redis url must start with redis:// (TLS is not supported), got scheme '" +
            std::string(u.scheme()) + "'");
    }
    ConnectionSettings s;
    s.host = u.host_address();
    if (s.host.empty()) throw std::invalid_argument("redis url has no host");
    s.port = u.has_port() ? std::string(u.port()) : std::string("6379");
    if (u.has_password()) {
        s.password = u.password();
        s.username = u.user();
    }
    std::string path = u.path();
    if (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (!path.empty()) {
        const auto* end = path.data() + path.size();
        auto [ptr, ec] = std::from_chars(path.data(), end, s.db);
        if (ec != std::errc{} || ptr != end || s.db < 0) {
            throw std::invalid_argument("redis url database must be a non-negative integer, got '" + path +
                                        "'");
        }
    }
    return s;
}

std::string format_command(const std::vector<std::string>& args) {
    if (args.empty()) throw std::invalid_argument("redis command without arguments");
    // RESP multi-bulk, written straight into one string (hiredis' formatter would cost three more
    // allocations and a copy per command).
    std::size_t size = 16;
    for (const auto& a : args) size += a.size() + 16;
    std::string out;
    out.reserve(size);
    char digits[24];
    const auto append_count = [&](char prefix, std::size_t n) {
        out += prefix;
        out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
        out += "\r\n";
    };
    append_count('*', args.size());
    for (const auto& a : args) {
        append_count('$', a.size());
        out += a;
        out += "\r\n";
    }
    return out;
}

Connection::Connection(asio::io_context& ioc, std::shared_ptr<const ConnectionSettings> settings, int index)
    : strand_(asio::make_strand(ioc)),
      settings_(std::move(settings)),
      index_(index),
      resolver_(strand_),
      socket_(strand_),
      connect_timer_(strand_),
      watchdog_(strand_),
      backoff_timer_(strand_),
      read_buf_(kReadChunk),
      reader_(redisReaderCreate()) {
    if (reader_ == nullptr) throw std::bad_alloc();
}

Connection::~Connection() {
    if (reader_ != nullptr) redisReaderFree(reader_);
}

std::string Connection::describe() const {
    return fmt::format("redis[{}] {}:{}/{}", index_, settings_->host, settings_->port, settings_->db);
}

void Connection::start() {
    asio::co_spawn(strand_, run(), [self = shared_from_this()](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            spdlog::error("{}: connection loop ended unexpectedly: {}", self->describe(), ex.what());
        }
    });
}

void Connection::stop() {
    asio::dispatch(strand_, [self = shared_from_this()] {
        if (self->stopping_) return;
        self->stopping_ = true;
        self->connected_.store(false, std::memory_order_release);
        if (self->failure_reason_.empty()) self->failure_reason_ = "redis client stopped";
        boost::system::error_code ignored;
        self->resolver_.cancel();
        self->socket_.close(ignored);
        self->connect_timer_.cancel();
        self->backoff_timer_.cancel();
    });
}

bool Connection::try_reserve() noexcept {
    std::size_t n = pending_count_.load(std::memory_order_relaxed);
    do {
        if (n >= settings_->max_pending) return false;
    } while (!pending_count_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    return true;
}

void Connection::submit(std::string formatted, Handler handler) {
    // The deadline starts now, not when the strand gets to it: the caller's budget includes
    // the time spent queued behind other callers.
    const auto deadline = std::chrono::steady_clock::now() + settings_->timeout;
    asio::post(strand_, [self = shared_from_this(), formatted = std::move(formatted), deadline,
                         handler = std::move(handler)]() mutable {
        if (self->state_ != State::Ready || self->stopping_) {
            self->complete(std::move(handler),
                           unavailable(self->stopping_ ? "redis client stopped" : "redis not connected"), {});
            return;
        }
        self->pending_.push_back({std::move(handler), deadline});
        self->write_buf_.append(formatted);
        if (!self->writing_) self->start_write();
        if (!self->watchdog_armed_) self->arm_watchdog();
    });
}

void Connection::complete(Handler handler, std::exception_ptr error, Reply reply) {
    pending_count_.fetch_sub(1, std::memory_order_relaxed);
    std::move(handler)(error, std::move(reply));
}

void Connection::start_write() {
    writing_ = true;
    std::swap(write_buf_, inflight_buf_);
    write_buf_.clear();
    asio::async_write(socket_, asio::buffer(inflight_buf_),
                      asio::bind_executor(strand_, [self = shared_from_this(), gen = generation_](
                                                       boost::system::error_code ec, std::size_t) {
                          if (gen != self->generation_) return;  // reset() already cleaned up
                          self->writing_ = false;
                          if (ec) {
                              self->fail_connection("redis connection lost: write failed: " + ec.message());
                              return;
                          }
                          if (self->inflight_buf_.capacity() > kKeepBufferCapacity) {
                              std::string().swap(self->inflight_buf_);
                          }
                          if (!self->write_buf_.empty()) self->start_write();
                      }));
}

// Timeout policy: when the oldest pending command passes its deadline the connection is declared
// dead (closed, every pending call failed, reconnected) instead of abandoning just that slot.
// Replies come back strictly FIFO, so every command queued behind the late one is stuck behind
// it anyway, and Redis executes commands one at a time, so a reply that late means the server or
// the network is stalled. Resetting bounds memory, surfaces silently dropped (half-open) TCP
// connections that would otherwise never error, and lets the breaker see the failures at once.
// One timer per connection tracks only the head's deadline: all commands share one timeout and
// are queued in arrival order, so the head expires first (to within scheduling jitter).
void Connection::arm_watchdog() {
    watchdog_armed_ = true;
    watchdog_.expires_at(pending_.front().deadline);
    watchdog_.async_wait(asio::bind_executor(
        strand_, [self = shared_from_this(), seq = ++watchdog_seq_](boost::system::error_code ec) {
            if (seq != self->watchdog_seq_) return;  // superseded by a reset
            self->watchdog_armed_ = false;
            if (!ec) self->on_watchdog();
        }));
}

void Connection::on_watchdog() {
    if (state_ != State::Ready || pending_.empty()) return;
    if (pending_.front().deadline <= std::chrono::steady_clock::now()) {
        fail_connection(fmt::format("redis timeout after {} ms", settings_->timeout.count()));
        return;
    }
    arm_watchdog();
}

void Connection::fail_connection(const std::string& reason) {
    if (state_ == State::Disconnected) return;
    if (failure_reason_.empty()) failure_reason_ = reason;
    connected_.store(false, std::memory_order_release);
    boost::system::error_code ignored;
    socket_.close(ignored);  // the read loop wakes up with an error and run() calls reset()
}

void Connection::reset(const std::string& reason) {
    state_ = State::Disconnected;
    connected_.store(false, std::memory_order_release);
    ++generation_;
    boost::system::error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
    connect_timer_.cancel();
    ++watchdog_seq_;
    watchdog_armed_ = false;
    watchdog_.cancel();
    writing_ = false;
    write_buf_.clear();
    inflight_buf_.clear();
    if (write_buf_.capacity() > kKeepBufferCapacity) std::string().swap(write_buf_);
    if (inflight_buf_.capacity() > kKeepBufferCapacity) std::string().swap(inflight_buf_);
    // A reader that saw a protocol error stays in error; bytes of a half-read reply must not
    // leak into the next connection either.
    redisReaderFree(reader_);
    reader_ = redisReaderCreate();
    if (reader_ == nullptr) throw std::bad_alloc();
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& p : pending) complete(std::move(p.handler), unavailable(reason), {});
    failure_reason_.clear();
}

asio::awaitable<void> Connection::run() {
    auto self = shared_from_this();  // the loop keeps its connection alive until stop()
    auto backoff = std::chrono::milliseconds(kInitialBackoff);
    int failed_attempts = 0;
    bool ever_connected = false;
    while (!stopping_) {
        bool was_ready = false;
        std::string error;
        try {
            co_await connect_and_handshake();
            was_ready = true;
            if (!ever_connected) {
                spdlog::info("{}: connected", describe());
            } else if (failed_attempts == 0) {
                spdlog::info("{}: reconnected", describe());
            } else {
                spdlog::info("{}: reconnected after {} failed attempt(s)", describe(), failed_attempts);
            }
            ever_connected = true;
            failed_attempts = 0;
            backoff = kInitialBackoff;
            co_await read_loop();
        } catch (const boost::system::system_error& e) {
            error = e.code() == asio::error::eof ? std::string("closed by server") : e.code().message();
        } catch (const std::exception& e) {
            error = e.what();
        }
        std::string reason = failure_reason_;
        if (reason.empty())
            reason = (was_ready ? "redis connection lost: " : "redis connect failed: ") + error;
        reset(reason);
        if (stopping_) break;
        if (was_ready) {
            spdlog::warn("{}: {}; reconnecting", describe(), reason);
        } else if (failed_attempts % 30 == 0) {
            // First failure, then about once a minute: an outage stays visible without flooding.
            spdlog::warn(
                "{}: {}; retrying with backoff ({} ms doubling to {} ms), {} failed attempt(s) so far",
                describe(), reason, kInitialBackoff.count(),
                std::chrono::duration_cast<std::chrono::milliseconds>(kMaxBackoff).count(),
                failed_attempts + 1);
        } else {
            spdlog::debug("{}: {} (attempt {})", describe(), reason, failed_attempts + 1);
        }
        if (!was_ready) ++failed_attempts;
        backoff_timer_.expires_after(backoff);
        boost::system::error_code ec;
        co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
    }
    spdlog::info("{}: stopped", describe());
}

asio::awaitable<void> Connection::connect_and_handshake() {
    state_ = State::Connecting;
    const auto gen = ++generation_;
    // One deadline covers resolve, connect and AUTH/SELECT. On expiry the socket is closed, which
    // aborts whichever step is in progress; the checks below stop the remaining ones.
    connect_timer_.expires_after(settings_->timeout);
    connect_timer_.async_wait(
        asio::bind_executor(strand_, [self = shared_from_this(), gen](boost::system::error_code ec) {
            if (ec || gen != self->generation_ || self->state_ != State::Connecting) return;
            self->failure_reason_ =
                fmt::format("redis connect failed: timeout after {} ms", self->settings_->timeout.count());
            boost::system::error_code ignored;
            self->resolver_.cancel();
            self->socket_.close(ignored);
        }));
    auto check = [this] {
        if (!failure_reason_.empty()) throw std::runtime_error(failure_reason_);
    };

    const auto endpoints =
        co_await resolver_.async_resolve(settings_->host, settings_->port, asio::use_awaitable);
    boost::system::error_code connect_error = asio::error::host_not_found;
    for (const auto& entry : endpoints) {
        check();
        boost::system::error_code ignored;
        socket_.close(ignored);
        co_await socket_.async_connect(entry.endpoint(),
                                       asio::redirect_error(asio::use_awaitable, connect_error));
        if (!connect_error) break;
    }
    check();
    if (connect_error) throw boost::system::system_error(connect_error);
    socket_.set_option(tcp::no_delay(true));
    // Keepalive lets the kernel notice a vanished peer on an idle connection; busy connections
    // are covered by the per-command timeout.
    socket_.set_option(asio::socket_base::keep_alive(true));

    std::vector<std::vector<std::string>> handshake;
    if (!settings_->password.empty()) {
        if (settings_->username.empty()) {
            handshake.push_back({"AUTH", settings_->password});
        } else {
            handshake.push_back({"AUTH", settings_->username, settings_->password});
        }
    }
    if (settings_->db != 0) handshake.push_back({"SELECT", std::to_string(settings_->db)});
    if (!handshake.empty()) {
        std::string request;
        for (const auto& cmd : handshake) request += format_command(cmd);
        co_await asio::async_write(socket_, asio::buffer(request), asio::use_awaitable);
        std::size_t answered = 0;
        while (answered < handshake.size()) {
            const std::size_t n =
                co_await socket_.async_read_some(asio::buffer(read_buf_), asio::use_awaitable);
            if (redisReaderFeed(reader_, read_buf_.data(), n) != REDIS_OK) {
                throw std::runtime_error("redis protocol error during handshake");
            }
            for (;;) {
                void* raw = nullptr;
                if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
                    throw std::runtime_error(std::string("redis protocol error: ") + reader_->errstr);
                }
                if (raw == nullptr) break;
                std::unique_ptr<redisReply, ReplyDeleter> reply(static_cast<redisReply*>(raw));
                if (reply->type == REDIS_REPLY_ERROR) {
                    throw std::runtime_error("redis " + handshake[answered].front() +
                                             " failed: " + std::string(reply->str, reply->len));
                }
                ++answered;
            }
        }
    }
    check();
    connect_timer_.cancel();
    state_ = State::Ready;
    connected_.store(true, std::memory_order_release);
}

asio::awaitable<void> Connection::read_loop() {
    for (;;) {
        const std::size_t n = co_await socket_.async_read_some(asio::buffer(read_buf_), asio::use_awaitable);
        if (redisReaderFeed(reader_, read_buf_.data(), n) != REDIS_OK) {
            throw std::runtime_error("redis protocol error: reader rejected input");
        }
        dispatch_replies();
    }
}

void Connection::dispatch_replies() {
    for (;;) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
            throw std::runtime_error(std::string("redis protocol error: ") + reader_->errstr);
        }
        if (raw == nullptr) return;
        std::unique_ptr<redisReply, ReplyDeleter> reply(static_cast<redisReply*>(raw));
        if (pending_.empty()) {
            // Redis only speaks unprompted to say goodbye (e.g. "ERR max number of clients").
            throw std::runtime_error("redis protocol error: unexpected reply" +
                                     (reply->type == REDIS_REPLY_ERROR
                                          ? ": " + std::string(reply->str, reply->len)
                                          : std::string()));
        }
        Pending p = std::move(pending_.front());
        pending_.pop_front();
        complete(std::move(p.handler), nullptr, to_reply(*reply));
    }
}

}  // namespace ec::infra::redis::detail
