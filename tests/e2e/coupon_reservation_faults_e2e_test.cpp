// FCFS reservation under faults (SPEC §7.6, §11): the server killed with SIGKILL while issue
// requests wait, PostgreSQL stopped or crashed while reservations continue, Redis losing its data (FLUSHALL)
// half-way through a coupon, and Redis stopped (503 fast, the rest of the API unaffected).
#include "e2e/reservation_support.hpp"

namespace ec::e2e {
namespace {

// Pending requests of a dead consumer are claimed after 1 s instead of 5 s.
const std::vector<std::string> kFastReclaim{"coupon.issuer.claim-idle=1s"};

// Reserves while PostgreSQL is down (Redis answers alone), kills the server with requests still
// unissued, brings PostgreSQL back and starts a new server: every reservation is issued, once.
TEST(ReservationCrashE2E, KillNineWithUnissuedRequestsLosesAndDoublesNothing) {
    CommercePg pg;
    RedisAdmin redis;
    const auto coupon = pg.insert_coupon(10, 200);
    auto server = std::make_unique<ServerProcess>(kFastReclaim);
    server->wait_ready(60s);

    auto tally = reserve_all(server->port(), coupon, user_range(300000, 50), 10);
    ASSERT_EQ(tally.count(200), 50) << tally.summary();
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    {
        ServiceOutage pg_down("pg");
        const auto during = reserve_all(server->port(), coupon, user_range(300050, 100), 10);
        EXPECT_EQ(during.count(200), 100) << during.summary();
        tally.add(during);
        const auto waiting = unsettled(redis, coupon);
        std::cout << "[ crash ] SIGKILL with " << waiting << " unissued request(s) in the stream\n";
        ASSERT_GT(waiting, 0);
        server->kill9();
    }
    server = std::make_unique<ServerProcess>(kFastReclaim);
    server->wait_ready(60s);
    ASSERT_TRUE(wait_settled(redis, coupon, 20s)) << unsettled(redis, coupon) << " still unsettled";
    CommercePg pg_again;  // the first connection died with the PostgreSQL it talked to
    expect_issued_exactly(pg_again, coupon, tally.winners, 150);
    HttpClient client(server->port());
    for (const auto u : {300000LL, 300049LL, 300050LL, 300149LL})
        EXPECT_EQ(status_of(client, coupon, u), "ISSUED");
    expect_sequences_one_to(tally.sequences, 1, 150);
}

// Reservations keep flowing from 10 clients while PostgreSQL is down for a while — `how` is "stop"
// (a clean shutdown) or "crash" (immediate: the commits not yet flushed are lost, which is what the
// issuer's unflushed issues risk) —: Redis answers all of them, and once PostgreSQL is back every
// one is issued, exactly.
void reserve_through_a_postgres_outage(const std::string& how) {
    CommercePg pg;
    RedisAdmin redis;
    const auto coupon = pg.insert_coupon(10, 100000);
    ServerProcess server;
    server.wait_ready(60s);
    HttpClient warm(server.port());
    ASSERT_EQ(warm.post(reserve_path(coupon), user_id_body(301000)).status, 200);  // gate initialised

    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> next_user{301001};
    std::atomic<int> while_down{0};
    std::atomic<bool> pg_is_down{false};
    std::mutex mutex;
    ReserveTally tally;
    tally.winners.push_back(301000);
    tally.sequences.push_back(1);
    ++tally.by_status[200];
    std::vector<std::thread> clients;
    for (int c = 0; c < 10; ++c) {
        clients.emplace_back([&] {
            HttpClient client(server.port(), 10s);
            ReserveTally mine;
            while (!stop) {
                const auto before = mine.count(200);
                reserve_once(client, coupon, next_user++, mine);
                if (pg_is_down && mine.count(200) > before) ++while_down;
                std::this_thread::sleep_for(20ms);
            }
            const std::scoped_lock lock(mutex);
            tally.add(mine);
        });
    }
    std::this_thread::sleep_for(500ms);
    {
        ServiceOutage pg_down("pg", how);
        pg_is_down = true;
        std::this_thread::sleep_for(2s);
        pg_is_down = false;
    }
    std::this_thread::sleep_for(500ms);
    stop = true;
    for (auto& t : clients) t.join();
    std::cout << "[ pg " << how << " ] " << tally.summary() << "; " << while_down.load()
              << " reservations answered 200 while PostgreSQL was down\n";
    EXPECT_GT(while_down.load(), 0);
    EXPECT_EQ(tally.server_errors(), 0) << tally.unexpected.front();
    EXPECT_EQ(tally.count(200), static_cast<int>(tally.winners.size()));
    const auto load_ended = Clock::now();
    ASSERT_TRUE(wait_settled(redis, coupon, 30s)) << unsettled(redis, coupon) << " still unsettled";
    std::cout << "[ pg " << how << " ] all issued "
              << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - load_ended).count()
              << " ms after the load ended\n";
    CommercePg pg_again;  // the first connection died with the PostgreSQL it talked to
    expect_issued_exactly(pg_again, coupon, tally.winners, tally.winners.size());
}

TEST(ReservationPgDownE2E, ReservationsContinueWhilePostgresIsDownAndAreIssuedAfterwards) {
    reserve_through_a_postgres_outage("stop");
}

// The issuer commits each issue without waiting for its flush and confirms in Redis only after one
// synchronous commit per batch: a crash loses only unconfirmed issues, which are issued again.
TEST(ReservationPgDownE2E, APostgresCrashWhileIssuingLosesNoConfirmedIssue) {
    reserve_through_a_postgres_outage("crash");
}

// Redis loses everything after 40 of 100 were issued: the gate re-initialises from the database
// (60 left, the 40 holders "already issued") and exactly 60 more are issued, never more.
TEST(ReservationFlushE2E, FlushAllAfterFortyIssuedReinitialisesAndIssuesExactlySixtyMore) {
    CommercePg pg;
    RedisAdmin redis;
    const auto coupon = pg.insert_coupon(10, 100);
    ServerProcess server;
    server.wait_ready(60s);
    auto first = reserve_all(server.port(), coupon, user_range(302000, 40), 10);
    ASSERT_EQ(first.count(200), 40) << first.summary();
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    ASSERT_EQ(pg.issued_quantity(coupon), 40);

    redis.command({"FLUSHALL"});

    // The 40 are known again as issued; 200 newcomers compete for the 60 left.
    auto again = reserve_all(server.port(), coupon, user_range(302000, 40), 10);
    EXPECT_EQ(again.count(200), 0) << again.summary();
    EXPECT_EQ(again.code("C004"), 40) << again.summary();
    const auto rest = reserve_all(server.port(), coupon, user_range(302100, 200), 40);
    std::cout << "[ flushall ] after the flush: " << rest.summary() << "\n";
    EXPECT_EQ(rest.count(200), 60) << rest.summary();
    EXPECT_EQ(rest.code("C001"), 140) << rest.summary();
    EXPECT_EQ(rest.server_errors(), 0);
    expect_sequences_one_to(rest.sequences, 41, 100);
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    auto winners = first.winners;
    winners.insert(winners.end(), rest.winners.begin(), rest.winners.end());
    expect_issued_exactly(pg, coupon, winners, 100);
}

// Redis stopped: reserve answers 503 COMMON007, within 100 ms once the breaker is open, writing
// nothing; the endpoints that do not need Redis keep working; Redis back: reservations resume
// without a restart.
TEST(ReservationRedisDownE2E, ReserveIsFast503AndTheRestOfTheApiWorks) {
    CommercePg pg;
    ServerProcess server;
    server.wait_ready(60s);
    HttpClient client(server.port());
    const auto coupon = pg.insert_coupon(10, 100);
    const auto sync_coupon = pg.insert_coupon(10, 100);
    const auto product = pg.insert_product(CommercePg::ProductSpec{});
    ASSERT_EQ(client.post(reserve_path(coupon), user_id_body(303000)).status, 200);
    {
        RedisAdmin redis;
        ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    }
    {
        ServiceOutage redis_down("redis");
        std::vector<double> late_ms;
        for (int i = 0; i < 40; ++i) {
            const auto started = Clock::now();
            const auto r = client.post(reserve_path(coupon), user_id_body(303001 + i));
            const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
            expect_error(r, 503, "COMMON007");
            if (i >= 20) late_ms.push_back(ms);
        }
        const auto slowest = *std::max_element(late_ms.begin(), late_ms.end());
        std::cout << "[ redis down ] slowest of the last 20 reserve answers: " << slowest << " ms\n";
        EXPECT_LT(slowest, 100.0);
        // What does not need Redis keeps working.
        EXPECT_EQ(client.get(product_path(product)).status, 200);
        EXPECT_EQ(client.get(coupon_path(coupon)).status, 200);
        EXPECT_EQ(client.post(issue_path(sync_coupon), user_id_body(303100)).status, 200);
        EXPECT_EQ(client.post(charge_path(303100), charge_body(1000, unique_key("redis-down"))).status, 200);
        // The holder's status comes from the database; an unknown one cannot be told.
        EXPECT_EQ(status_of(client, coupon, 303000), "ISSUED");
        EXPECT_TRUE(status_of(client, coupon, 303001).starts_with("HTTP 503 "))
            << status_of(client, coupon, 303001);
        EXPECT_EQ(pg.issued_quantity(coupon), 1);
    }
    // Redis back (empty: the test Redis keeps nothing across a restart): the gate re-initialises.
    const auto deadline = Clock::now() + 20s;
    HttpResponse r;
    do {
        r = client.post(reserve_path(coupon), user_id_body(303001));
        if (r.status == 200) break;
        std::this_thread::sleep_for(100ms);
    } while (Clock::now() < deadline);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(as_i64(r.json().at("sequenceNumber")), 2);
    RedisAdmin redis;
    ASSERT_TRUE(wait_settled(redis, coupon, 10s));
    EXPECT_EQ(pg.issued_quantity(coupon), 2);
}

}  // namespace
}  // namespace ec::e2e
