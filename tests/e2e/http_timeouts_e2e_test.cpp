// Connection deadlines (SPEC §1: every I/O has a timeout): an idle keep-alive connection is closed
// after server.idle-timeout, a request that does not arrive in full within server.request-timeout
// is dropped unanswered and nothing of it is applied. The server checks deadlines in one periodic
// sweep (a quarter of the shorter timeout), so a close comes up to that much late. User 7330
// belongs to this file.
#include "e2e/e2e_support.hpp"

namespace ec::e2e {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kIdle = 400ms;
constexpr auto kRequest = 600ms;
constexpr auto kSlack = 1500ms;  // sweep period (100 ms here) plus a loaded CI machine

struct Timed {
    std::string received;
    std::chrono::milliseconds elapsed;
};

// Sends `bytes` and reads until the server closes the connection (at most 10 s).
Timed send_and_wait_for_close(int port, std::string_view bytes) {
    const auto started = Clock::now();
    Timed t;
    t.received = HttpClient::raw(port, bytes, 10s);
    t.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return t;
}

// The server closed the connection no earlier than `timeout` and not much later.
void expect_closed_after(const Timed& t, std::chrono::milliseconds timeout) {
    EXPECT_GE(t.elapsed, timeout - 50ms);
    EXPECT_LT(t.elapsed, timeout + kSlack);
}

class HttpTimeoutsE2E : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = std::make_unique<ServerProcess>(
            std::vector<std::string>{"server.idle-timeout=" + std::to_string(kIdle.count()) + "ms",
                                     "server.request-timeout=" + std::to_string(kRequest.count()) + "ms"});
        server_->wait_ready(60s);
    }
    static void TearDownTestSuite() { server_.reset(); }
    static int port() { return server_->port(); }
    inline static std::unique_ptr<ServerProcess> server_;
};

TEST_F(HttpTimeoutsE2E, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
    const auto t = send_and_wait_for_close(port(), "GET /actuator/health HTTP/1.1\r\nHost: t\r\n\r\n");
    std::cout << "[idle] answered, then closed " << t.elapsed.count() << " ms after the request" << std::endl;
    EXPECT_TRUE(t.received.starts_with("HTTP/1.1 200")) << t.received;
    expect_closed_after(t, kIdle);
}

TEST_F(HttpTimeoutsE2E, SilentConnectionIsClosedAfterIdleTimeout) {
    const auto t = send_and_wait_for_close(port(), "");
    std::cout << "[silent] closed after " << t.elapsed.count() << " ms" << std::endl;
    EXPECT_EQ(t.received, "");
    expect_closed_after(t, kIdle);
}

TEST_F(HttpTimeoutsE2E, IncompleteHeaderIsDroppedAfterRequestTimeout) {
    const auto t = send_and_wait_for_close(port(), "GET /actuator/health HTTP/1.1\r\nHost: t\r\n");
    std::cout << "[slow header] closed after " << t.elapsed.count() << " ms" << std::endl;
    EXPECT_EQ(t.received, "");
    expect_closed_after(t, kRequest);
}

TEST_F(HttpTimeoutsE2E, IncompleteBodyIsDroppedAfterRequestTimeoutAndNothingIsApplied) {
    constexpr std::int64_t user = 7330;
    Pg pg;
    const auto before = pg.balance(user);
    const std::string body = charge_body(1000, unique_key("timeout"));
    const std::string head = "POST " + charge_path(user) +
                             " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n";
    const auto t = send_and_wait_for_close(port(), head + body.substr(0, body.size() - 1));
    std::cout << "[slow body] closed after " << t.elapsed.count() << " ms" << std::endl;
    EXPECT_EQ(t.received, "");
    expect_closed_after(t, kRequest);
    EXPECT_EQ(pg.balance(user), before);

    // The server is unharmed: a complete request on a new connection is answered.
    HttpClient client(port());
    EXPECT_EQ(client.get("/actuator/health").status, 200);
}

}  // namespace
}  // namespace ec::e2e
