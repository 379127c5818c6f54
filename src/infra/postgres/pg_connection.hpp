#pragma once
// One non-blocking libpq connection driven by the Asio loop: libpq does the protocol, Asio waits
// for the socket. A connection is used by one coroutine at a time (the pool hands out leases).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "infra/postgres/pg_result.hpp"

struct pg_conn;

namespace ec::infra::pg {

// An SQL expression that makes the current transaction commit without waiting for its WAL flush
// (synchronous_commit off until the transaction ends). Only for a transaction that nobody is told
// about before a later synchronous commit has flushed it too (WAL is flushed in order), or whose loss
// in a database crash is harmless; each caller says which.
inline constexpr std::string_view kCommitWithoutFlushWait = "set_config('synchronous_commit', 'off', true)";

class PgConnection {
public:
    using Clock = std::chrono::steady_clock;

    // Connects without blocking the loop; throws PgUnavailable after `timeout`.
    static boost::asio::awaitable<std::unique_ptr<PgConnection>> connect(
        boost::asio::any_io_executor executor, const std::string& url, std::chrono::milliseconds timeout);
    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    // Runs one parameterised statement as a named prepared statement (prepared on first use on this
    // connection). Throws PgError for server errors, PgUnavailable for I/O failures/timeouts (the
    // connection is then broken and will be discarded).
    boost::asio::awaitable<Result> query_params(std::string_view sql, Params params);
    // query("... $1 ... $2", a, b): parameters are converted to text Params. (A plain function, not
    // a coroutine: g++ 12 miscompiles braced lists inside co_await expressions, so call sites never
    // need one.)
    template <typename... Args>
    boost::asio::awaitable<Result> query(std::string_view sql, Args&&... args) {
        return query_params(sql, Params{Param(std::forward<Args>(args))...});
    }
    // Like query(), but as an unnamed statement, which PostgreSQL plans anew at every execution: for
    // statements on a table whose size swings, like the outbox. A named statement's cached generic
    // plan keeps what suited the table when it was made, e.g. a sequential scan of a then empty
    // table, and goes on scanning the whole table as it grows.
    boost::asio::awaitable<Result> query_params_replanned(std::string_view sql, Params params);
    template <typename... Args>
    boost::asio::awaitable<Result> query_replanned(std::string_view sql, Args&&... args) {
        return query_params_replanned(sql, Params{Param(std::forward<Args>(args))...});
    }
    // Runs a script of one or more statements without parameters (BEGIN, migrations, LISTEN ...).
    boost::asio::awaitable<Result> execute(std::string_view sql);

    // Cheap liveness check without a round trip: reads what the server may have sent (a FATAL on
    // shutdown, or EOF) and reports whether the connection is still usable.
    bool probe_alive();
    bool broken() const { return broken_; }
    bool in_transaction() const;

    Clock::time_point created_at() const { return created_at_; }
    std::uint64_t id() const { return id_; }

private:
    PgConnection(boost::asio::any_io_executor executor, pg_conn* conn);
    boost::asio::awaitable<Result> run_query(std::string_view sql, const Params* params,
                                             const std::string* stmt);
    boost::asio::awaitable<void> flush();
    boost::asio::awaitable<Result> collect();
    boost::asio::awaitable<void> wait(bool writable);
    void fail(const std::string& what);

    boost::asio::any_io_executor executor_;
    pg_conn* conn_;
    boost::asio::posix::stream_descriptor socket_;
    struct SqlHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    // sql -> statement name; looked up by string_view so a hot query allocates nothing.
    std::unordered_map<std::string, std::string, SqlHash, std::equal_to<>> prepared_;
    Clock::time_point created_at_;
    std::uint64_t id_;
    bool broken_ = false;
};

}  // namespace ec::infra::pg
