#pragma once
// One pipelined Redis connection, owned by RedisClient (internal to src/infra/redis).
//
// All mutable state lives on the connection's strand; callers on any thread only touch the
// atomics (connected, pending count) and post their command to the strand. Queued commands are
// written in batches (everything queued while a write is in flight goes out in the next single
// async_write) and replies are matched FIFO to the waiting callers.
#include <hiredis/read.h>

#include <atomic>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "infra/redis/redis_client.hpp"

namespace ec::infra::redis::detail {

// Where and how to connect; shared read-only by all connections of a client.
struct ConnectionSettings {
    std::string host;
    std::string port;
    std::string username;  // empty: AUTH with the password only (the default user)
    std::string password;  // empty: no AUTH
    int db = 0;
    std::chrono::milliseconds timeout{1000};
    std::size_t max_pending = 10'000;
};

// redis://[[user]:password@]host[:port][/db]; throws std::invalid_argument naming the problem.
ConnectionSettings parse_redis_url(const std::string& url);

// RESP request (multi-bulk) for one command.
std::string format_command(const std::vector<std::string>& args);

// A caller's completion handler, type-erased so the calls of every caller fit one FIFO queue.
// Completing always posts the handler to its own associated executor (the caller's strand): never
// inline on the connection's strand, where the caller's code would hold up the replies behind it.
// Until then it keeps the caller's executor busy (outstanding work), as an Asio operation must.
class Completion {
public:
    Completion() = default;
    template <class Handler>
    explicit Completion(Handler&& handler)
        : impl_(std::make_unique<Model<std::decay_t<Handler>>>(std::forward<Handler>(handler))) {}

    void operator()(std::exception_ptr error, Reply reply) && {
        auto impl = std::move(impl_);
        impl->complete(error, std::move(reply));
    }

private:
    struct Concept {
        virtual ~Concept() = default;
        virtual void complete(std::exception_ptr error, Reply reply) = 0;
    };
    template <class Handler>
    struct Model final : Concept {
        explicit Model(Handler h)
            : handler(std::move(h)),
              work(boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                       boost::asio::execution::outstanding_work.tracked)) {}
        void complete(std::exception_ptr error, Reply reply) override {
            boost::asio::post(work, boost::asio::append(std::move(handler), error, std::move(reply)));
        }
        Handler handler;
        std::decay_t<decltype(boost::asio::prefer(
            boost::asio::get_associated_executor(std::declval<Handler&>()),
            boost::asio::execution::outstanding_work.tracked))>
            work;
    };
    std::unique_ptr<Concept> impl_;
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    using Handler = Completion;

    Connection(boost::asio::io_context& ioc, std::shared_ptr<const ConnectionSettings> settings, int index);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Starts the connect / read / reconnect loop on the strand.
    void start();
    // Closes the socket, fails everything pending and ends the loop (asynchronously).
    void stop();

    bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }
    std::size_t pending() const noexcept { return pending_count_.load(std::memory_order_relaxed); }

    // Claims one of the max_pending slots; false when the connection is saturated. A claimed slot
    // must be handed to submit(), which releases it when the handler is completed.
    bool try_reserve() noexcept;
    // Sends an already formatted command; the handler completes through its associated executor
    // with the reply or a RedisUnavailable exception. Callable from any thread.
    void submit(std::string formatted, Handler handler);

private:
    enum class State { Disconnected, Connecting, Ready };
    struct Pending {
        Handler handler;
        std::chrono::steady_clock::time_point deadline;
    };

    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> connect_and_handshake();
    boost::asio::awaitable<void> read_loop();
    // Parses every complete reply buffered in the reader and hands each to the oldest pending call.
    void dispatch_replies();
    void enqueue(std::string formatted, Handler handler);
    void start_write();
    void arm_watchdog();
    void on_watchdog();
    // Makes the read loop give up on the current socket; `reason` is what waiting callers see.
    void fail_connection(const std::string& reason);
    // After the read loop ended: fail all pending calls and clear per-connection state.
    void reset(const std::string& reason);
    void complete(Handler handler, std::exception_ptr error, Reply reply);
    std::string describe() const;

    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    std::shared_ptr<const ConnectionSettings> settings_;
    const int index_;

    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer watchdog_;
    boost::asio::steady_timer backoff_timer_;

    std::atomic<bool> connected_{false};
    std::atomic<std::size_t> pending_count_{0};

    // Strand-only state.
    State state_ = State::Disconnected;
    bool stopping_ = false;
    std::uint64_t generation_ = 0;  // bumped per connection attempt; stale callbacks compare it
    std::uint64_t watchdog_seq_ = 0;
    bool watchdog_armed_ = false;
    std::string failure_reason_;
    std::deque<Pending> pending_;
    std::string write_buf_;     // commands queued while a write is in flight
    std::string inflight_buf_;  // the batch currently being written
    bool writing_ = false;
    std::vector<char> read_buf_;
    redisReader* reader_ = nullptr;
};

}  // namespace ec::infra::redis::detail
