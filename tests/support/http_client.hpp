#pragma once
// A small synchronous HTTP/1.1 client for the end-to-end tests (Boost.Beast over plain TCP to
// 127.0.0.1). One HttpClient per thread: it owns its io_context and one keep-alive connection.
#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ec::test {

// Request headers, in order (duplicates allowed): {{"Authorization", "Bearer x"}, {"X-A", "1"}}.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-cased names; repeated fields joined by ", "

    // Parses the body as JSON; throws std::runtime_error quoting status and body on failure.
    boost::json::value json() const;
    // Header value by case-insensitive name, "" when absent.
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
};

class HttpClient {
public:
    static constexpr std::chrono::milliseconds kDefaultTimeout{30'000};

    explicit HttpClient(int port, std::chrono::milliseconds timeout = kDefaultTimeout);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    HttpClient(HttpClient&&) noexcept;
    HttpClient& operator=(HttpClient&&) noexcept;

    HttpResponse get(const std::string& path, const Headers& headers = {});
    HttpResponse post(const std::string& path, const std::string& body,
                      const std::string& content_type = "application/json", const Headers& headers = {});
    HttpResponse put(const std::string& path, const std::string& body,
                     const std::string& content_type = "application/json", const Headers& headers = {});
    HttpResponse patch(const std::string& path, const std::string& body,
                       const std::string& content_type = "application/json", const Headers& headers = {});
    HttpResponse del(const std::string& path, const std::string& body = {}, const Headers& headers = {});

    // Any method ("GET", "HEAD", "OPTIONS", ...). Reuses the keep-alive connection, reconnecting
    // (and resending once) when the server closed it before answering. The whole exchange
    // (connect, write, read) must finish within the timeout, else std::runtime_error is thrown
    // and the connection dropped. Connection failures also throw std::runtime_error.
    // Host is set automatically unless given; Content-Length is computed from the body.
    HttpResponse request(std::string_view method, const std::string& path, const std::string& body = {},
                         const Headers& headers = {});

    void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
    std::chrono::milliseconds timeout() const { return timeout_; }
    int port() const { return port_; }
    // Drops the current connection (the next request opens a new one).
    void close();
    // Number of TCP connections opened so far (to assert keep-alive reuse).
    int connections_opened() const { return connections_opened_; }

    // Connects, sends `bytes` as-is and returns everything received until the server closes the
    // connection or `timeout` passes (no error on timeout or reset). With shutdown_write the
    // sending side is half-closed after the write (the server sees EOF).
    static std::string raw(int port, std::string_view bytes,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds{5'000},
                           bool shutdown_write = false);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int port_;
    std::chrono::milliseconds timeout_;
    int connections_opened_ = 0;
};

// Runs fn(i, client) for i in [0, n) on n threads, each with its own HttpClient(port); the threads
// start together behind a latch. Returns the results in index order; rethrows the first exception.
std::vector<HttpResponse> parallel(int port, int n,
                                   const std::function<HttpResponse(int i, HttpClient&)>& fn);

}  // namespace ec::test
