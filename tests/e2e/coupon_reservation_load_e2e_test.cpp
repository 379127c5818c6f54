// FCFS reservation under load (SPEC §7.6): 10,000 requests from 2,000 users at 200 connections on
// a 100-unit coupon, and the original's three k6 scenarios (step14: extreme, sequential, ramp-up)
// replayed against the HTTP API. Each ends with the exact-count invariant checked in PostgreSQL.
#include <random>

#include "e2e/reservation_support.hpp"

namespace ec::e2e {
namespace {

class ReservationLoadE2E : public ServerSuite<ReservationLoadE2E> {};

TEST_F(ReservationLoadE2E, TenThousandRequestsFromTwoThousandUsersIssueExactlyTheHundred) {
    CommercePg pg;
    RedisAdmin redis;
    const auto coupon = pg.insert_coupon(10, 100);
    // 2,000 distinct users, 5 requests each, shuffled.
    std::vector<std::int64_t> requests;
    for (int round = 0; round < 5; ++round) {
        for (std::int64_t u = 300000; u < 302000; ++u) requests.push_back(u);
    }
    std::shuffle(requests.begin(), requests.end(), std::mt19937_64(42));

    const auto started = Clock::now();
    const auto tally = reserve_all(port(), coupon, requests, 200);
    const auto answered_at = Clock::now();
    std::cout << "[ reserve ] 10000 requests from 2000 users at 200 connections in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(answered_at - started).count()
              << " ms: " << tally.summary() << "\n";

    EXPECT_EQ(tally.count(200), 100) << tally.summary();
    EXPECT_EQ(tally.count(200) + tally.count(409) + tally.count(400), 10000) << tally.summary();
    EXPECT_EQ(tally.by_code.size(), 2u) << tally.summary();  // C001 and C004 only
    EXPECT_EQ(tally.server_errors(), 0) << tally.summary();
    EXPECT_TRUE(tally.interrupted.empty()) << tally.summary();
    EXPECT_TRUE(tally.unexpected.empty()) << tally.unexpected.front();
    expect_sequences_one_to(tally.sequences, 1, 100);
    EXPECT_EQ(std::set<std::int64_t>(tally.winners.begin(), tally.winners.end()).size(), 100u);

    // Within 5 s of the last answer the database holds exactly those 100.
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    std::cout << "[ issued  ] all 100 in the database "
              << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - answered_at).count()
              << " ms after the last answer\n";
    expect_issued_exactly(pg, coupon, tally.winners, 100);
}

// k6 `extremeConcurrency`: 100 virtual users, one request each, all at once, on a 50-unit coupon.
TEST_F(ReservationLoadE2E, K6ExtremeHundredConcurrentUsersOneRequestEach) {
    CommercePg pg;
    RedisAdmin redis;
    const auto coupon = pg.insert_coupon(10, 50);
    const auto tally = reserve_all(port(), coupon, user_range(1000, 100), 100);
    std::cout << "[ extreme ] " << tally.summary() << "\n";
    EXPECT_EQ(tally.count(200), 50) << tally.summary();
    EXPECT_EQ(tally.code("C001"), 50) << tally.summary();
    EXPECT_EQ(tally.server_errors(), 0);
    expect_sequences_one_to(tally.sequences, 1, 50);
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    expect_issued_exactly(pg, coupon, tally.winners, 50);
}

// k6 `sequentialIssue`: one virtual user, 100 distinct users one after the other (userId
// 200000 + iteration), each success followed by a look at the user's coupons as in the script.
TEST_F(ReservationLoadE2E, K6SequentialOneStreamOfAHundredUsers) {
    CommercePg pg;
    RedisAdmin redis;
    HttpClient client(port());
    const auto coupon = pg.insert_coupon(10, 50);
    ReserveTally tally;
    for (std::int64_t i = 0; i < 100; ++i) {
        reserve_once(client, coupon, 200000 + i, tally);
        if (i < 50) {
            ASSERT_EQ(tally.sequences.size(), static_cast<std::size_t>(i + 1)) << tally.summary();
            EXPECT_EQ(tally.sequences.back(), i + 1);  // in arrival order
            EXPECT_EQ(client.get(user_coupons_path(200000 + i)).status, 200);
        }
    }
    std::cout << "[ sequential ] " << tally.summary() << "\n";
    EXPECT_EQ(tally.count(200), 50);
    EXPECT_EQ(tally.code("C001"), 50);
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    expect_issued_exactly(pg, coupon, tally.winners, 50);
}

// k6 `rampUpTest`: ramping virtual users 0 -> 20 -> 50 -> 0 with 100 ms think time, userId
// 300000 + VU * 100 + iteration, on a 100-unit coupon. The stages are 1 s / 2 s / 1 s instead of
// 10 s / 20 s / 10 s to keep the suite short; the shape and the invariant are the same.
TEST_F(ReservationLoadE2E, K6RampUpToFiftyUsersWithThinkTime) {
    CommercePg pg;
    RedisAdmin redis;
    const auto coupon = pg.insert_coupon(10, 100);
    constexpr int kMaxVus = 50;
    // Target VUs at time t (ms): linear 0->20 over [0,1000), 20->50 over [1000,3000), 50->0 over [3000,4000).
    const auto target = [](long t) -> int {
        if (t < 1000) return static_cast<int>(20 * t / 1000);
        if (t < 3000) return 20 + static_cast<int>(30 * (t - 1000) / 2000);
        if (t < 4000) return 50 - static_cast<int>(50 * (t - 3000) / 1000);
        return 0;
    };
    const auto started = Clock::now();
    const auto elapsed_ms = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    };
    std::mutex mutex;
    ReserveTally tally;
    std::atomic<int> peak{0};
    std::vector<std::thread> vus;
    for (int vu = 1; vu <= kMaxVus; ++vu) {
        vus.emplace_back([&, vu] {
            HttpClient client(port(), 10s);
            ReserveTally mine;
            for (int iter = 0; elapsed_ms() < 4000 && iter < 100;) {
                if (vu > target(elapsed_ms())) {
                    std::this_thread::sleep_for(10ms);
                    continue;
                }
                int seen = peak.load();
                while (vu > seen && !peak.compare_exchange_weak(seen, vu)) {
                }
                reserve_once(client, coupon, 300000 + vu * 100 + iter, mine);
                ++iter;
                std::this_thread::sleep_for(100ms);  // think time
            }
            const std::scoped_lock lock(mutex);
            tally.add(mine);
        });
    }
    for (auto& t : vus) t.join();
    const int requests = tally.count(200) + tally.count(400) + tally.count(409);
    std::cout << "[ ramp-up ] " << requests << " requests, peak " << peak.load()
              << " VUs: " << tally.summary() << "\n";
    EXPECT_GE(peak.load(), 45);
    EXPECT_GT(requests, 100);
    EXPECT_EQ(tally.count(200), 100) << tally.summary();
    EXPECT_EQ(tally.server_errors(), 0) << tally.summary();
    expect_sequences_one_to(tally.sequences, 1, 100);
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    expect_issued_exactly(pg, coupon, tally.winners, 100);
}

}  // namespace
}  // namespace ec::e2e
