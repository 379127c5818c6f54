#include "infra/postgres/pg_connection.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "infra/postgres/pg_errors.hpp"

#include <spdlog/spdlog.h>

namespace ec::infra::pg {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {
std::atomic<std::uint64_t> next_connection_id{1};

// libpq reports errors with a trailing newline; trim it so log lines and messages stay one line.
std::string trimmed(const char* msg) {
    std::string s = msg ? msg : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// Waits for the socket with a deadline. The descriptor is owned by libpq: the caller releases it
// before destruction so Asio never closes libpq's fd.
asio::awaitable<bool> wait_socket(asio::posix::stream_descriptor& sock, bool writable,
                                  std::chrono::milliseconds timeout) {
    asio::steady_timer timer(sock.get_executor(), timeout);
    const auto type =
        writable ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read;
    auto result =
        co_await (sock.async_wait(type, asio::use_awaitable) || timer.async_wait(asio::use_awaitable));
    co_return result.index() == 0;
}
}  // namespace

PgConnection::PgConnection(asio::any_io_executor executor, pg_conn* conn)
    : executor_(executor),
      conn_(conn),
      socket_(executor, PQsocket(conn)),
      created_at_(Clock::now()),
      id_(next_connection_id++) {
    // Server NOTICEs (e.g. "relation already exists, skipping") belong in the debug log, not on stderr.
    // A FATAL arriving while idle (server shutdown, terminated backend) is also delivered here: it
    // ends the session, though libpq has not seen the EOF yet and still reports CONNECTION_OK.
    PQsetNoticeReceiver(
        conn_,
        [](void* self, const PGresult* res) {
            const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
            if (severity != nullptr &&
                (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC")) {
                static_cast<PgConnection*>(self)->broken_ = true;
            }
            spdlog::debug("postgres: {}", trimmed(PQresultErrorMessage(res)));
        },
        this);
}

PgConnection::~PgConnection() {
    if (socket_.is_open()) socket_.release();
    PQfinish(conn_);
}

asio::awaitable<std::unique_ptr<PgConnection>> PgConnection::connect(asio::any_io_executor executor,
                                                                     const std::string& url,
                                                                     std::chrono::milliseconds timeout) {
    pg_conn* conn = PQconnectStart(url.c_str());
    if (conn == nullptr) throw PgUnavailable("cannot allocate a PostgreSQL connection");
    std::unique_ptr<pg_conn, decltype(&PQfinish)> guard(conn, &PQfinish);
    if (PQstatus(conn) == CONNECTION_BAD) {
        throw PgUnavailable("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(conn)));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (poll != PGRES_POLLING_OK) {
        if (poll == PGRES_POLLING_FAILED) {
            throw PgUnavailable("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(conn)));
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw PgUnavailable("timed out connecting to PostgreSQL");
        // The socket may change between polls (multi-host URLs), so wrap it afresh each time.
        asio::posix::stream_descriptor sock(executor, PQsocket(conn));
        bool ready = false;
        try {
            ready = co_await wait_socket(sock, poll == PGRES_POLLING_WRITING, left);
        } catch (...) {
            sock.release();
            throw;
        }
        sock.release();
        if (!ready) throw PgUnavailable("timed out connecting to PostgreSQL");
        poll = PQconnectPoll(conn);
    }
    if (PQsetnonblocking(conn, 1) != 0)
        throw PgUnavailable("cannot make the PostgreSQL connection non-blocking");
    guard.release();
    co_return std::unique_ptr<PgConnection>(new PgConnection(executor, conn));
}

bool PgConnection::in_transaction() const {
    return PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

bool PgConnection::probe_alive() {
    if (broken_ || PQstatus(conn_) != CONNECTION_OK) return false;
    // Non-blocking read: a server that went away left a FATAL message and/or EOF in the socket.
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
        broken_ = true;
        return false;
    }
    // PQisBusy parses what was read: results pending while idle, or a FATAL (handed to the notice
    // receiver, which sets broken_), mean the session was terminated.
    if (PQisBusy(conn_) != 0 || broken_) {
        broken_ = true;
        return false;
    }
    return true;
}

void PgConnection::fail(const std::string& what) {
    broken_ = true;
    throw PgUnavailable(what);
}

asio::awaitable<void> PgConnection::wait(bool writable) {
    // No per-wait timer here: it cost two extra coroutines, a parallel group and a timer-queue
    // insertion per round trip. The wait is bounded instead by the server's statement_timeout and,
    // for a server or network that vanished, by the kernel (tcp_user_timeout and TCP keepalives,
    // set in the connection URL by PgPool), which fail the socket and wake us with an error.
    boost::system::error_code ec;
    co_await socket_.async_wait(
        writable ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read,
        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) fail("lost the PostgreSQL connection: " + ec.message());
    co_return;
}

asio::awaitable<void> PgConnection::flush() {
    for (;;) {
        const int rc = PQflush(conn_);
        if (rc == 0) co_return;
        if (rc < 0) fail("lost the PostgreSQL connection: " + trimmed(PQerrorMessage(conn_)));
        co_await wait(true);
        if (PQconsumeInput(conn_) == 0)
            fail("lost the PostgreSQL connection: " + trimmed(PQerrorMessage(conn_)));
    }
}

asio::awaitable<Result> PgConnection::collect() {
    Result last;
    std::string error_state;
    std::string error_message;
    for (;;) {
        while (PQisBusy(conn_) != 0) {
            co_await wait(false);
            if (PQconsumeInput(conn_) == 0) {
                fail("lost the PostgreSQL connection: " + trimmed(PQerrorMessage(conn_)));
            }
        }
        PGresult* res = PQgetResult(conn_);
        if (res == nullptr) break;
        const auto status = PQresultStatus(res);
        if (status == PGRES_FATAL_ERROR && error_state.empty()) {
            const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            error_state = state ? state : "XX000";
            error_message = trimmed(PQresultErrorMessage(res));
        }
        last = Result(res);
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
        broken_ = true;
        throw PgUnavailable("lost the PostgreSQL connection: " +
                            (error_message.empty() ? trimmed(PQerrorMessage(conn_)) : error_message));
    }
    if (!error_state.empty()) {
        PgError err(error_state, error_message);
        if (err.is_unavailable() && error_state.starts_with("57P")) broken_ = true;
        throw err;
    }
    co_return last;
}

asio::awaitable<Result> PgConnection::run_query(std::string_view sql, const Params* params,
                                                const std::string* stmt) {
    if (broken_) throw PgUnavailable("PostgreSQL connection is broken");
    int ok = 0;
    if (params == nullptr) {
        ok = PQsendQuery(conn_, std::string(sql).c_str());
    } else {
        std::vector<const char*> values;
        values.reserve(params->size());
        for (const auto& p : *params) values.push_back(p.value() ? p.value()->c_str() : nullptr);
        if (stmt != nullptr) {
            ok = PQsendQueryPrepared(conn_, stmt->c_str(), static_cast<int>(values.size()), values.data(),
                                     nullptr, nullptr, 0);
        } else {
            ok = PQsendQueryParams(conn_, std::string(sql).c_str(), static_cast<int>(values.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0);
        }
    }
    if (ok == 0) fail("cannot send to PostgreSQL: " + trimmed(PQerrorMessage(conn_)));
    co_await flush();
    co_return co_await collect();
}

asio::awaitable<Result> PgConnection::query_params(std::string_view sql, Params params) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
        const std::string name = "s" + std::to_string(prepared_.size() + 1);
        std::string text(sql);
        if (PQsendPrepare(conn_, name.c_str(), text.c_str(), 0, nullptr) == 0) {
            fail("cannot send to PostgreSQL: " + trimmed(PQerrorMessage(conn_)));
        }
        co_await flush();
        co_await collect();
        it = prepared_.emplace(std::move(text), name).first;
    }
    co_return co_await run_query(sql, &params, &it->second);
}

asio::awaitable<Result> PgConnection::query_params_replanned(std::string_view sql, Params params) {
    co_return co_await run_query(sql, &params, nullptr);
}

asio::awaitable<Result> PgConnection::execute(std::string_view sql) {
    co_return co_await run_query(sql, nullptr, nullptr);
}

}  // namespace ec::infra::pg
