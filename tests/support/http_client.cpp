#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <latch>
#include <limits>
#include <optional>
#include <stdexcept>
#include <thread>

namespace ec::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

template <class Sv>
std::string str(const Sv& sv) {
    return std::string(sv.data(), sv.size());
}

beast::string_view bsv(std::string_view s) {
    return beast::string_view(s.data(), s.size());
}

bool has(const Headers& headers, std::string_view name) {
    const std::string n = lower(name);
    return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return lower(h.first) == n; });
}

Headers with_content_type(const std::string& content_type, const Headers& headers) {
    Headers all;
    if (!content_type.empty() && !has(headers, "content-type"))
        all.emplace_back("Content-Type", content_type);
    all.insert(all.end(), headers.begin(), headers.end());
    return all;
}

// Runs one asynchronous operation to completion on the (otherwise idle) io_context.
template <class Start>
error_code run(asio::io_context& ioc, Start&& start) {
    error_code result = asio::error::would_block;
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
}

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, std::numeric_limits<int>::max()));
}

// Waits until fd is ready for `events`; false on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, remaining_ms(deadline));
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return false;
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HttpResponse

boost::json::value HttpResponse::json() const {
    error_code ec;
    boost::json::value v = boost::json::parse(body, ec);
    if (ec) {
        throw std::runtime_error("response body is not JSON (" + ec.message() + "), status " +
                                 std::to_string(status) + ", body: " + body);
    }
    return v;
}

std::string HttpResponse::header(std::string_view name) const {
    const auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
}

bool HttpResponse::has_header(std::string_view name) const {
    return headers.count(lower(name)) != 0;
}

// ---------------------------------------------------------------------------------------------
// HttpClient

struct HttpClient::Impl {
    asio::io_context ioc{1};
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;

    // True when the idle connection cannot be reused: the server closed it (EOF/RST readable)
    // or sent something unsolicited.
    bool stale() {
        if (buffer.size() > 0) return true;
        pollfd p{stream->socket().native_handle(), POLLIN, 0};
        int r;
        do {
            r = ::poll(&p, 1, 0);
        } while (r < 0 && errno == EINTR);
        return r != 0;
    }
};

HttpClient::HttpClient(int port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), port_(port), timeout_(timeout) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

void HttpClient::close() {
    if (impl_->stream) {
        error_code ignored;
        impl_->stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        impl_->stream->socket().close(ignored);
        impl_->stream.reset();
    }
    impl_->buffer.clear();
}

HttpResponse HttpClient::get(const std::string& path, const Headers& headers) {
    return request("GET", path, {}, headers);
}
HttpResponse HttpClient::post(const std::string& path, const std::string& body,
                              const std::string& content_type, const Headers& headers) {
    return request("POST", path, body, with_content_type(content_type, headers));
}
HttpResponse HttpClient::put(const std::string& path, const std::string& body,
                             const std::string& content_type, const Headers& headers) {
    return request("PUT", path, body, with_content_type(content_type, headers));
}
HttpResponse HttpClient::patch(const std::string& path, const std::string& body,
                               const std::string& content_type, const Headers& headers) {
    return request("PATCH", path, body, with_content_type(content_type, headers));
}
HttpResponse HttpClient::del(const std::string& path, const std::string& body, const Headers& headers) {
    return request("DELETE", path, body,
                   body.empty() ? headers : with_content_type("application/json", headers));
}

HttpResponse HttpClient::request(std::string_view method, const std::string& path, const std::string& body,
                                 const Headers& headers) {
    http::request<http::string_body> req;
    req.method_string(bsv(method));
    req.target(bsv(path));
    req.version(11);
    if (!has(headers, "host")) req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    if (!has(headers, "user-agent")) req.set(http::field::user_agent, "ec-e2e-tests");
    for (const auto& [name, value] : headers) req.insert(bsv(name), bsv(value));
    req.body() = body;
    req.prepare_payload();
    const bool head = req.method() == http::verb::head;
    const std::string what = std::string(method) + " " + path + " (127.0.0.1:" + std::to_string(port_) + ")";

    for (int attempt = 0;; ++attempt) {
        if (impl_->stream && impl_->stale()) close();
        const bool reused = impl_->stream.has_value();
        if (!reused) {
            impl_->stream.emplace(impl_->ioc);
            impl_->stream->expires_after(timeout_);
            const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"),
                                   static_cast<unsigned short>(port_));
            const error_code ec =
                run(impl_->ioc, [&](auto handler) { impl_->stream->async_connect(ep, handler); });
            if (ec) {
                close();
                throw std::runtime_error(what + ": connect failed: " + ec.message());
            }
            ++connections_opened_;
            const int fd = impl_->stream->socket().native_handle();
            ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);  // keep out of spawned servers
            error_code ignored;
            impl_->stream->socket().set_option(tcp::no_delay(true), ignored);
        }

        impl_->stream->expires_after(timeout_);
        http::response_parser<http::string_body> parser;
        parser.header_limit(1024 * 1024);
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        if (head) parser.skip(true);

        error_code ec =
            run(impl_->ioc, [&](auto handler) { http::async_write(*impl_->stream, req, handler); });
        if (!ec) {
            ec = run(impl_->ioc,
                     [&](auto handler) { http::async_read(*impl_->stream, impl_->buffer, parser, handler); });
        }
        if (ec) {
            const bool nothing_received = !parser.got_some();
            close();
            // A kept-alive connection the server closed just as we reused it: resend once.
            if (reused && attempt == 0 && nothing_received && ec != beast::error::timeout) continue;
            throw std::runtime_error(what + " failed: " +
                                     (ec == beast::error::timeout
                                          ? "timed out after " + std::to_string(timeout_.count()) + " ms"
                                          : ec.message()));
        }
        impl_->stream->expires_never();

        auto& res = parser.get();
        HttpResponse out;
        out.status = static_cast<int>(res.result_int());
        out.body = std::move(res.body());
        for (const auto& field : res) {
            auto [it, inserted] = out.headers.emplace(lower(str(field.name_string())), str(field.value()));
            if (!inserted) it->second += ", " + str(field.value());
        }
        if (!res.keep_alive()) close();
        return out;
    }
}

std::string HttpClient::raw(int port, std::string_view bytes, std::chrono::milliseconds timeout,
                            bool shutdown_write) {
    const auto deadline = Clock::now() + timeout;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};

    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            throw std::runtime_error("raw connect to port " + std::to_string(port) + ": " +
                                     std::strerror(errno));
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (!wait_fd(fd, POLLOUT, deadline)) throw std::runtime_error("raw connect: timed out");
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            throw std::runtime_error("raw connect to port " + std::to_string(port) + ": " +
                                     std::strerror(err));
        }
    }

    // Send everything (stop early if the server closes on us: its answer may still be readable).
    size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(fd, POLLOUT, deadline)) break;
        } else {
            break;
        }
    }
    if (shutdown_write) ::shutdown(fd, SHUT_WR);

    std::string out;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
        } else if (n == 0) {
            break;  // orderly close
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_fd(fd, POLLIN, deadline)) break;  // timeout
        } else {
            break;  // reset etc.
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

std::vector<HttpResponse> parallel(int port, int n,
                                   const std::function<HttpResponse(int i, HttpClient&)>& fn) {
    std::vector<HttpResponse> results(static_cast<size_t>(n));
    std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
    std::latch start(n);
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(n));
    try {
        for (int i = 0; i < n; ++i) {
            threads.emplace_back([&, i] {
                std::optional<HttpClient> client;
                try {
                    client.emplace(port);
                } catch (...) {
                    errors[i] = std::current_exception();
                }
                start.arrive_and_wait();
                if (!client) return;
                try {
                    results[i] = fn(i, *client);
                } catch (...) {
                    errors[i] = std::current_exception();
                }
            });
        }
    } catch (...) {
        start.count_down(n - static_cast<int>(threads.size()));  // release the started threads
        for (auto& t : threads) t.join();
        throw;
    }
    for (auto& t : threads) t.join();
    for (auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }
    return results;
}

}  // namespace ec::test
