// The sales ranking over HTTP (SPEC §6): shapes, ties and bad input of the two ranking endpoints,
// the fallback to the PostgreSQL backup while Redis is down (and back to Redis without a restart),
// and `ecommerce ranking rebuild`. Users 7700-7899 belong to this file.
//
// Other tests of the run also sell today, so the products here sell thousands of units to be sure
// to stand in today's top 100.
#include "e2e/ranking_support.hpp"

namespace ec::e2e {
namespace {

using Clock = std::chrono::steady_clock;
namespace bj = boost::json;

class RankingPg : public CommercePg {
public:
    // A cheap product with ample stock, and users rich enough to buy thousands of it.
    std::int64_t product(const std::string& name) {
        return insert_product(ProductSpec{name, 1, 1'000'000, std::string("ranking-e2e")});
    }
    void fund(std::int64_t first_user, std::int64_t last_user) {
        exec("UPDATE users SET balance = 1000000000 WHERE id BETWEEN $1 AND $2",
             {std::to_string(first_user), std::to_string(last_user)});
    }
};

std::string today_iso(Pg& pg) {
    return pg.scalar("SELECT to_char(now() AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD')").value();
}

void buy(HttpClient& client, std::int64_t user, const Lines& lines) {
    const auto r =
        client.post("/api/orders/complete", order_body(user, lines, std::nullopt, unique_key("rank")));
    ASSERT_EQ(r.status, 201) << r.body;
}

// The entries of `products` in a ranking answer, in answer order.
std::vector<bj::object> entries_of(const bj::value& answer, const std::vector<std::int64_t>& products) {
    std::vector<bj::object> out;
    for (const auto& e : answer.at("rankings").as_array()) {
        const auto id = as_i64(e.at("productId"));
        if (std::find(products.begin(), products.end(), id) != products.end()) out.push_back(e.as_object());
    }
    return out;
}

class RankingE2E : public ServerSuite<RankingE2E> {};

TEST_F(RankingE2E, TopRanksByUnitsWithTiesToTheSmallerIdAndTheProductEndpointAgrees) {
    RankingPg pg;
    pg.fund(7700, 7709);
    const auto a = pg.product("랭킹 A " + unique_code("N"));
    const auto b = pg.product("랭킹 B " + unique_code("N"));  // b > a: ties with a rank after it
    const auto c = pg.product("랭킹 C " + unique_code("N"));
    HttpClient client(port());
    buy(client, 7700, Lines{{a, 3000}, {c, 4000}});
    buy(client, 7701, Lines{{b, 5000}});
    buy(client, 7702, Lines{{a, 2000}, {c, 3000}});
    ASSERT_TRUE(wait_published(pg, {a, b, c}, 10s));

    const auto r = client.get("/api/products/ranking/top?limit=100");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = r.json();
    EXPECT_EQ(body.at("date").as_string(), today_iso(pg));
    EXPECT_EQ(body.at("source").as_string(), "redis");
    const auto& all = body.at("rankings").as_array();
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(as_i64(all[i].at("rank")), static_cast<std::int64_t>(i + 1));
        if (i > 0) {
            EXPECT_GE(as_i64(all[i - 1].at("salesCount")), as_i64(all[i].at("salesCount")));
        }
    }
    const auto ours = entries_of(body, {a, b, c});
    ASSERT_EQ(ours.size(), 3U) << r.body;
    EXPECT_EQ(as_i64(ours[0].at("productId")), c);
    EXPECT_EQ(as_i64(ours[0].at("salesCount")), 7000);
    EXPECT_EQ(as_i64(ours[1].at("productId")), a);  // 5000, tied with b: the smaller id first
    EXPECT_EQ(as_i64(ours[2].at("productId")), b);
    EXPECT_EQ(as_i64(ours[1].at("salesCount")), 5000);
    EXPECT_EQ(as_i64(ours[2].at("salesCount")), 5000);
    EXPECT_EQ(as_i64(ours[2].at("rank")), as_i64(ours[1].at("rank")) + 1);
    EXPECT_TRUE(std::string(ours[0].at("productName").as_string()).starts_with("랭킹 C"));
    EXPECT_EQ(ours[0].size(), 4U);  // rank, productId, productName, salesCount

    for (const auto& e : ours) {
        const auto id = as_i64(e.at("productId"));
        const auto p = client.get("/api/products/ranking/product/" + std::to_string(id));
        ASSERT_EQ(p.status, 200) << p.body;
        const auto pj = p.json();
        EXPECT_EQ(as_i64(pj.at("productId")), id);
        EXPECT_EQ(pj.at("date").as_string(), today_iso(pg));
        EXPECT_EQ(as_i64(pj.at("rank")), as_i64(e.at("rank"))) << p.body;
        EXPECT_EQ(as_i64(pj.at("salesCount")), as_i64(e.at("salesCount")));
    }

    const auto limited = client.get("/api/products/ranking/top?limit=1");
    ASSERT_EQ(limited.status, 200);
    EXPECT_EQ(limited.json().at("rankings").as_array().size(), 1U);
    const auto by_default = client.get("/api/products/ranking/top");
    ASSERT_EQ(by_default.status, 200);
    EXPECT_LE(by_default.json().at("rankings").as_array().size(), 10U);
    const auto dated = client.get("/api/products/ranking/top?limit=100&date=" + today_iso(pg));
    EXPECT_EQ(entries_of(dated.json(), {a, b, c}).size(), 3U);
}

TEST_F(RankingE2E, AnUnrankedProductOrAnEmptyDayAnswersMinusOneAndAnEmptyList) {
    HttpClient client(port());
    const auto p = client.get("/api/products/ranking/product/999999999");
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_EQ(as_i64(p.json().at("rank")), -1);
    EXPECT_EQ(as_i64(p.json().at("salesCount")), 0);

    const auto old = client.get("/api/products/ranking/top?date=2001-01-01");
    ASSERT_EQ(old.status, 200) << old.body;
    EXPECT_EQ(old.json().at("date").as_string(), "2001-01-01");
    EXPECT_TRUE(old.json().at("rankings").as_array().empty());
    EXPECT_EQ(old.json().at("source").as_string(), "none");
}

TEST_F(RankingE2E, BadDateOrLimitIs400Common002) {
    HttpClient client(port());
    for (const std::string query : {"limit=0", "limit=101", "limit=-5", "limit=ten", "date=2026-02-30",
                                    "date=20261125", "date=2026-1-05", "date=yesterday"}) {
        SCOPED_TRACE(query);
        expect_error(client.get("/api/products/ranking/top?" + query), 400, "COMMON002");
    }
    expect_error(client.get("/api/products/ranking/product/1?date=2026-13-01"), 400, "COMMON002");
    expect_error(client.get("/api/products/ranking/product/abc"), 400, "COMMON002");
}

TEST(RankingFailoverE2E, RedisDownServesTheBackupFastThenRedisAgainAndCatchesUp) {
    RankingPg pg;
    pg.fund(7800, 7819);
    ServerProcess server({"ranking.backup.interval=300ms"});
    server.wait_ready(60s);
    HttpClient client(server.port());
    const auto x = pg.product("장애 X " + unique_code("N"));
    const auto y = pg.product("장애 Y " + unique_code("N"));
    buy(client, 7800, Lines{{x, 9000}, {y, 8000}});
    buy(client, 7801, Lines{{x, 9000}});
    ASSERT_TRUE(wait_published(pg, {x, y}, 10s));

    // The backup job (every 300 ms here) copies today's top 100 with our products in it.
    const auto backed_up = [&] {
        return pg.int64(
                   "SELECT COALESCE(max(sales_count), 0) FROM product_ranking_backup "
                   "WHERE aggregated_date = (now() AT TIME ZONE 'Asia/Seoul')::date AND product_id = $1",
                   {std::to_string(x)}) == 18000;
    };
    const auto deadline = Clock::now() + 10s;
    while (!backed_up() && Clock::now() < deadline) std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(backed_up()) << "no backup of today's ranking within 10 s";

    ServiceOutage outage("redis");
    // During the switch every answer is a 200; once the breaker is open each one is fast.
    std::vector<double> late_ms;
    std::string last_body;
    for (int i = 0; i < 60; ++i) {
        const auto started = Clock::now();
        const auto r = client.get("/api/products/ranking/top?limit=100");
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
        ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body;
        if (i >= 40) late_ms.push_back(ms);
        last_body = r.body;
        std::this_thread::sleep_for(20ms);
    }
    const auto down = bj::parse(last_body);
    EXPECT_EQ(down.at("source").as_string(), "backup");
    const auto backup_entries = entries_of(down, {x, y});
    ASSERT_EQ(backup_entries.size(), 2U) << last_body;
    EXPECT_EQ(as_i64(backup_entries[0].at("productId")), x);
    EXPECT_EQ(as_i64(backup_entries[0].at("salesCount")), 18000);
    for (const double ms : late_ms) EXPECT_LT(ms, 100.0);
    const auto rank_down = client.get("/api/products/ranking/product/" + std::to_string(y));
    ASSERT_EQ(rank_down.status, 200) << rank_down.body;
    EXPECT_EQ(rank_down.json().at("source").as_string(), "backup");
    EXPECT_EQ(as_i64(rank_down.json().at("salesCount")), 8000);

    // Payments do not need Redis; their events wait in the outbox.
    buy(client, 7802, Lines{{x, 100}, {y, 50}});
    buy(client, 7803, Lines{{y, 25}});
    EXPECT_EQ(unpublished_events_of(pg, {x, y}), 2);

    outage.end();
    std::string source;
    const auto back_deadline = Clock::now() + 20s;
    while (Clock::now() < back_deadline) {
        const auto r = client.get("/api/products/ranking/top?limit=100");
        ASSERT_EQ(r.status, 200) << r.body;
        source = std::string(r.json().at("source").as_string());
        if (source == "redis" && unpublished_events_of(pg, {x, y}) == 0) break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(source, "redis") << "still not serving from Redis 20 s after it came back";
    ASSERT_TRUE(wait_published(pg, {x, y}, 10s)) << "the relay did not catch up";
    // The outage payments are in the ranking. (The test Redis keeps no data across a restart, so the
    // earlier sales are there only if it persisted them; the rebuild below restores them either way.)
    RedisAdmin redis;
    const auto today = db_units(pg, {x, y}).begin()->first;
    const auto x_score = redis.zscore(day_key(today), std::to_string(x)).value_or(0);
    const auto y_score = redis.zscore(day_key(today), std::to_string(y)).value_or(0);
    EXPECT_TRUE(x_score == 100 || x_score == 18100) << x_score;
    EXPECT_TRUE(y_score == 75 || y_score == 8075) << y_score;
}

TEST(RankingRebuildE2E, RebuildRestoresALostDayExactlyAndLaterEventsAreNotCountedTwice) {
    RankingPg pg;
    pg.fund(7850, 7869);
    ServerProcess server;
    server.wait_ready(60s);
    HttpClient client(server.port());
    const auto p = pg.product("재구축 P " + unique_code("N"));
    const auto q = pg.product("재구축 Q " + unique_code("N"));
    for (int i = 0; i < 5; ++i) buy(client, 7850 + i, Lines{{p, 10 + i}, {q, 1}});
    ASSERT_TRUE(wait_published(pg, {p, q}, 10s));
    const auto truth = db_units(pg, {p, q});
    ASSERT_EQ(truth.size(), 1U);
    const auto day = truth.begin()->first;

    RedisAdmin redis;
    redis.command({"DEL", day_key(day), "ranking:product:orders:applied:{" + day + "}"});
    EXPECT_FALSE(redis.zscore(day_key(day), std::to_string(p)).has_value());

    const std::string date = day.substr(0, 4) + "-" + day.substr(4, 2) + "-" + day.substr(6, 2);
    auto args = base_args();
    args.insert(args.begin(), {"ranking", "rebuild", "--date", date});
    std::string output;
    ASSERT_EQ(run_binary(args, &output, 60s), 0) << output;
    EXPECT_NE(output.find("units written"), std::string::npos) << output;
    EXPECT_EQ(redis_units(redis, truth, {p, q}), truth);
    EXPECT_GT(redis.command({"TTL", day_key(day)}).integer, 0);

    // Events already counted by the rebuild are no-ops if replayed; new sales still count.
    pg.exec(
        "UPDATE outbox_events SET published_at = NULL WHERE aggregate_id IN "
        "(SELECT order_id FROM order_items WHERE product_id = $1)",
        {std::to_string(p)});
    buy(client, 7860, Lines{{p, 7}});
    ASSERT_TRUE(wait_published(pg, {p, q}, 10s));
    EXPECT_EQ(redis_units(redis, truth, {p, q}), db_units(pg, {p, q}));

    auto bad = base_args();
    bad.insert(bad.begin(), {"ranking", "rebuild", "--date", "2026-02-30"});
    EXPECT_EQ(run_binary(bad, &output, 30s), 2) << output;

    // A day older than outbox.retention (30 days) may have lost events to the purge: refused.
    const auto old_day =
        pg.scalar("SELECT to_char((now() AT TIME ZONE 'Asia/Seoul')::date - 30, 'YYYY-MM-DD')").value();
    auto too_old = base_args();
    too_old.insert(too_old.begin(), {"ranking", "rebuild", "--date", old_day});
    EXPECT_EQ(run_binary(too_old, &output, 30s), 2) << output;
    EXPECT_NE(output.find("is outside outbox.retention"), std::string::npos) << output;
}

// An event the relay cannot apply is retried with backoff, then parked after outbox.max-attempts
// failures (counter, gauge, last_error for the operator), and it does not hold up the events after it.
TEST(OutboxParkingE2E, AnEventThatKeepsFailingIsParkedAndLaterPaymentsStillReachTheRanking) {
    ServerProcess server({"outbox.max-attempts=3", "outbox.retry-backoff=50ms"});
    server.wait_ready(60s);  // first: it migrates a fresh database (this test may run alone)
    RankingPg pg;
    pg.fund(7880, 7881);
    HttpClient client(server.port());
    // A type no relay knows: every attempt fails. (Other servers of the run may claim it too, with
    // their own limit of 10; whoever claims it at its third attempt or later here parks it.)
    const auto poison = pg.exec(
        "INSERT INTO outbox_events (event_type, aggregate_id, payload) VALUES ('ParkingTestPoison', 0, '{}') "
        "RETURNING id");
    const auto parked = [&] {
        return pg.exec("SELECT parked FROM outbox_events WHERE id = $1", {poison}) == "t";
    };
    const auto deadline = Clock::now() + 15s;
    while (!parked() && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(parked()) << "attempts so far: "
                          << pg.exec("SELECT attempts FROM outbox_events WHERE id = $1", {poison});
    EXPECT_GE(pg.int64("SELECT attempts FROM outbox_events WHERE id = $1", {poison}), 3);
    EXPECT_EQ(pg.exec("SELECT published_at IS NULL FROM outbox_events WHERE id = $1", {poison}), "t");
    EXPECT_NE(pg.exec("SELECT last_error FROM outbox_events WHERE id = $1", {poison})
                  .find("unknown event type 'ParkingTestPoison'"),
              std::string::npos);

    std::string metrics;
    const auto value_of = [&](const std::string& name) {
        return prometheus_value(metrics, name).value_or(-1.0);
    };
    // The gauge follows the relay's statistics, refreshed about once a second.
    const auto gauge_deadline = Clock::now() + 5s;
    do {
        metrics = client.get("/actuator/prometheus").body;
        if (value_of("outbox_parked") >= 1.0) break;
        std::this_thread::sleep_for(100ms);
    } while (Clock::now() < gauge_deadline);
    EXPECT_GE(value_of("outbox_parked"), 1.0) << metrics;
    EXPECT_GE(value_of("outbox_events_parked_total"), 1.0) << metrics;
    EXPECT_GE(value_of("outbox_events_failed_total"), 1.0) << metrics;

    // Parked means out of the way: a payment made now is still published and ranked.
    const auto p = pg.product("파킹 P " + unique_code("N"));
    buy(client, 7880, Lines{{p, 7}});
    ASSERT_TRUE(wait_published(pg, {p}, 10s));
    const auto today = today_iso(pg);
    const auto top = client.get("/api/products/ranking/product/" + std::to_string(p) + "?date=" + today);
    ASSERT_EQ(top.status, 200) << top.body;
    EXPECT_EQ(as_i64(top.json().at("salesCount")), 7) << top.body;
}

// The payment wakes the relay itself once its completion is committed and durable (PayOrder raises
// app::OutboxSignal): with a poll only every 30 s, a paid order still reaches the ranking at once.
TEST(OutboxSignalE2E, APaidOrderReachesTheRankingWithoutWaitingForTheRelaysPoll) {
    ServerProcess server({"outbox.poll-interval=30s"});
    server.wait_ready(60s);
    RankingPg pg;
    pg.fund(7890, 7891);
    HttpClient client(server.port());
    const auto p = pg.product("신호 P " + unique_code("N"));
    // The relay's start-up round is over by now; it idles until it is woken or 30 s have passed.
    std::this_thread::sleep_for(1s);
    const auto paid = Clock::now();
    buy(client, 7890, Lines{{p, 3}});
    ASSERT_TRUE(wait_published(pg, {p}, 20s));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - paid);
    EXPECT_LT(took, 3s) << "published after " << took.count() << " ms: at the poll, not on the signal";
    const auto answer =
        client.get("/api/products/ranking/product/" + std::to_string(p) + "?date=" + today_iso(pg));
    ASSERT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(as_i64(answer.json().at("salesCount")), 3) << answer.body;
}

// Published events older than outbox.retention are deleted by the periodic purge
// (outbox.purge-interval); recent and parked events stay.
TEST(OutboxPurgeE2E, PublishedEventsOlderThanTheRetentionAreDeletedRecentAndParkedOnesStay) {
    ServerProcess server({"outbox.purge-interval=200ms"});
    server.wait_ready(60s);
    Pg pg;
    // Types no relay knows, already published or parked: no relay claims them.
    const auto insert = [&](const std::string& type, const std::string& age, bool parked) {
        return pg.exec(
            "INSERT INTO outbox_events (event_type, aggregate_id, payload, created_at, published_at, "
            "parked) VALUES ($1, 0, '{}', now() - $2::interval, "
            "CASE WHEN $3 THEN NULL ELSE now() - $2::interval END, $3) RETURNING id",
            {type, age, parked ? "true" : "false"});
    };
    const auto old_published = insert("OutboxPurgeE2EOld", "31 days", false);
    const auto recent_published = insert("OutboxPurgeE2ERecent", "29 days", false);
    const auto old_parked = insert("OutboxPurgeE2EParked", "40 days", true);
    const auto exists = [&](const std::string& id) {
        return pg.int64("SELECT count(*) FROM outbox_events WHERE id = $1", {id}) == 1;
    };

    const auto deadline = Clock::now() + 10s;
    while (exists(old_published) && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(exists(old_published)) << "the old published event was not deleted";
    EXPECT_TRUE(exists(recent_published));
    EXPECT_TRUE(exists(old_parked));
    HttpClient client(server.port());
    const auto metrics = client.get("/actuator/prometheus").body;
    EXPECT_GE(prometheus_value(metrics, "outbox_events_purged_total").value_or(0), 1.0) << metrics;

    pg.exec("DELETE FROM outbox_events WHERE id IN ($1, $2)", {recent_published, old_parked});
}

}  // namespace
}  // namespace ec::e2e
