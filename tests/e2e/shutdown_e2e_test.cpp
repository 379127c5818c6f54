// Graceful shutdown (SPEC §11): on SIGTERM the server stops accepting, finishes in-flight requests
// and exits 0; no charge is lost or applied without its response. User 7400 belongs to this file.
//
// A request racing the shutdown may go unanswered: its connection is refused (listener closed), or
// reset/closed before the server read it (still in the listen backlog, or an idle connection being
// closed). Those are counted apart from the answered ones; none may be answered with a 5xx, and the
// balance must move by exactly the sum of the answered (200) charges.
#include <signal.h>

#include <latch>
#include <mutex>
#include <thread>

#include "e2e/e2e_support.hpp"

namespace ec::e2e {
namespace {

using Clock = std::chrono::steady_clock;

struct Attempt {
    std::string key;
    std::int64_t amount = 0;
    Clock::time_point sent;
    Clock::time_point done;
    int status = 0;     // 0: no HTTP response
    std::string error;  // why there was no response
    std::string body;
};

TEST(ShutdownE2E, SigtermFinishesInFlightChargesAndExitsZero) {
    constexpr std::int64_t user = 7400;
    constexpr int kThreads = 50;
    constexpr int kPerThread = 6;  // each thread keeps charging on its connection until refused

    Pg pg;
    const std::int64_t initial = pg.balance(user);
    const std::int64_t rows_initial = pg.idempotency_rows(user);

    ServerProcess server;
    server.wait_ready(60s);
    const int port = server.port();
    const std::string prefix = unique_key("shutdown") + "-";

    std::vector<std::vector<Attempt>> attempts(kThreads);
    std::atomic<int> responses{0};
    std::latch start(kThreads + 1);
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            HttpClient client(port, 20s);
            start.arrive_and_wait();
            for (int j = 0; j < kPerThread; ++j) {
                Attempt a;
                a.key = prefix + std::to_string(t) + "-" + std::to_string(j);
                a.amount = 1 + t * kPerThread + j;  // distinct amounts
                a.sent = Clock::now();
                try {
                    const auto r = client.post(charge_path(user), charge_body(a.amount, a.key));
                    a.status = r.status;
                    a.body = r.body;
                    ++responses;
                } catch (const std::exception& e) {
                    a.error = e.what();
                }
                a.done = Clock::now();
                const bool stop = a.status != 200;
                attempts[static_cast<size_t>(t)].push_back(std::move(a));
                if (stop) break;
            }
        });
    }

    start.arrive_and_wait();
    // SIGTERM as soon as the first responses arrive: the other requests are in flight then.
    const auto wait_deadline = Clock::now() + 60s;
    while (responses.load() < 1 && Clock::now() < wait_deadline) std::this_thread::sleep_for(1ms);
    const auto sigterm_at = Clock::now();
    server.send_signal(SIGTERM);

    for (auto& th : threads) th.join();
    const auto code = server.wait_exit(45s);
    ASSERT_GE(responses.load(), 1) << "no response before the deadline";

    int ok = 0;
    int no_response = 0;
    int refused = 0;
    int server_errors = 0;
    int other_status = 0;
    int ok_after_sigterm = 0;  // sent before SIGTERM, answered 200 after it: an in-flight request finished
    std::int64_t ok_sum = 0;
    for (const auto& per_thread : attempts) {
        for (const auto& a : per_thread) {
            if (a.status == 200) {
                ++ok;
                ok_sum += a.amount;
                if (a.sent < sigterm_at && a.done > sigterm_at) ++ok_after_sigterm;
                const auto v = boost::json::parse(a.body);
                EXPECT_EQ(as_i64(v.at("chargedAmount")), a.amount) << a.body;
            } else if (a.status >= 500) {
                ++server_errors;
                ADD_FAILURE() << "5xx during shutdown: " << a.status << " " << a.body;
            } else if (a.status != 0) {
                ++other_status;
                ADD_FAILURE() << "unexpected status during shutdown: " << a.status << " " << a.body;
            } else {
                ++no_response;
                if (a.error.find("connect failed") != std::string::npos) {
                    ++refused;
                } else if (no_response - refused <= 3) {
                    std::cout
                        << "[shutdown] e.g. unanswered " << a.key << " sent "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(a.sent - sigterm_at).count()
                        << " ms after SIGTERM: " << a.error << std::endl;
                }
                // Only requests racing the shutdown may go unanswered.
                EXPECT_GT(a.done, sigterm_at) << "request failed before SIGTERM was sent: " << a.error;
            }
        }
    }
    std::cout << "[shutdown] 200: " << ok << " (" << ok_after_sigterm
              << " finished after SIGTERM), no response: " << no_response << " (" << refused
              << " refused at connect, " << no_response - refused
              << " closed unanswered), 5xx: " << server_errors << ", other: " << other_status << std::endl;

    ASSERT_TRUE(code.has_value()) << "server did not exit within 45 s of SIGTERM";
    EXPECT_EQ(*code, 0) << server.log_tail(30);
    EXPECT_EQ(server_errors, 0);
    EXPECT_GE(ok, 1);
    EXPECT_GE(ok_after_sigterm, 1)
        << "no request was in flight when SIGTERM arrived; the test proved nothing";

    // Exactly the answered charges were applied: none lost, none applied without its response.
    EXPECT_EQ(pg.balance(user), initial + ok_sum);
    EXPECT_EQ(pg.idempotency_rows(user), rows_initial + ok);
    EXPECT_EQ(pg.idempotency_rows_with_prefix(user, prefix), ok);

    // The port is closed.
    HttpClient after(port, 2s);
    EXPECT_THROW(after.get("/actuator/health/liveness"), std::runtime_error);
}

}  // namespace
}  // namespace ec::e2e
