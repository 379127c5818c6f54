// Users and balance endpoints (SPEC §4.2, §8) over real HTTP against the real binary.
// Users 7000-7019 (seeded by profile `test` with balance 10,000) belong to this file. Also: the purge
// of expired idempotency records.
#include "e2e/e2e_support.hpp"

namespace ec::e2e {
namespace {

namespace bj = boost::json;

// Far above every seeded or identity-generated id.
constexpr std::int64_t kUnknownUser = 9'000'000'000'001;

class UsersE2E : public ServerSuite<UsersE2E> {};

TEST_F(UsersE2E, GetUserReturnsProfileAndBalance) {
    constexpr std::int64_t user = 7000;
    Pg pg;
    HttpClient client(port());
    const auto r = client.get(user_path(user));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(v.is_object()) << r.body;
    const auto& o = v.as_object();
    EXPECT_EQ(o.size(), 4u) << r.body;
    EXPECT_EQ(as_i64(o.at("userId")), user);
    EXPECT_EQ(o.at("username").as_string(), "K6Test-Extreme-7000");
    EXPECT_EQ(o.at("email").as_string(), "k6test7000@loadtest.com");
    EXPECT_EQ(as_i64(o.at("balance")), pg.balance(user));
}

TEST_F(UsersE2E, GetBalanceReturnsDatabaseBalance) {
    constexpr std::int64_t user = 7001;
    Pg pg;
    HttpClient client(port());
    const auto r = client.get(balance_path(user));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto v = r.json();
    ASSERT_TRUE(v.is_object()) << r.body;
    const auto& o = v.as_object();
    EXPECT_EQ(o.size(), 2u) << r.body;
    EXPECT_EQ(as_i64(o.at("userId")), user);
    EXPECT_EQ(as_i64(o.at("balance")), pg.balance(user));
}

TEST_F(UsersE2E, ChargeReturnsReceiptAndUpdatesBalance) {
    constexpr std::int64_t user = 7002;
    constexpr std::int64_t amount = 12'345;
    Pg pg;
    HttpClient client(port());
    const std::int64_t before = pg.balance(user);
    const std::string key = unique_key("users-charge");

    const auto r = client.post(charge_path(user), charge_body(amount, key));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(v.is_object()) << r.body;
    const auto& o = v.as_object();
    EXPECT_EQ(o.size(), 4u) << r.body;
    EXPECT_EQ(as_i64(o.at("userId")), user);
    EXPECT_EQ(as_i64(o.at("balance")), before + amount);
    EXPECT_EQ(as_i64(o.at("chargedAmount")), amount);
    ASSERT_TRUE(o.at("chargedAt").is_string()) << r.body;
    const std::string charged_at(o.at("chargedAt").as_string());
    EXPECT_TRUE(is_local_datetime_micros(charged_at)) << charged_at;
    // A local date-time of business.time-zone (Asia/Seoul in every profile), i.e. close to "now" there.
    const auto skew = pg.scalar(
        "SELECT abs(extract(epoch FROM ($1::timestamp - (now() AT TIME ZONE 'Asia/Seoul'))))", {charged_at});
    ASSERT_TRUE(skew.has_value());
    EXPECT_LT(std::stod(*skew), 120.0) << "chargedAt " << charged_at << " is not Asia/Seoul local time";

    EXPECT_EQ(pg.balance(user), before + amount);
    EXPECT_EQ(pg.idempotency_rows(user, key), 1);
    EXPECT_EQ(pg.scalar("SELECT status FROM idempotency_records WHERE user_id = $1 AND idempotency_key = $2",
                        {std::to_string(user), key}),
              "COMPLETED");

    const auto b = client.get(balance_path(user));
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(as_i64(b.json().at("balance")), before + amount);
}

TEST_F(UsersE2E, ChargeAcceptsBoundaryValues) {
    constexpr std::int64_t user = 7003;
    Pg pg;
    HttpClient client(port());
    const std::int64_t before = pg.balance(user);

    const auto min = client.post(charge_path(user), charge_body(1, unique_key("users-min")));
    ASSERT_EQ(min.status, 200) << min.body;
    const auto max = client.post(charge_path(user), charge_body(10'000'000, unique_key("users-max")));
    ASSERT_EQ(max.status, 200) << max.body;
    // A key of exactly 100 characters is accepted.
    std::string key100 = unique_key("users-k100-");
    key100.resize(100, 'k');
    const auto k = client.post(charge_path(user), charge_body(2, key100));
    ASSERT_EQ(k.status, 200) << k.body;
    EXPECT_EQ(pg.idempotency_rows(user, key100), 1);
    // The limit counts characters, not bytes: 100 characters of which most are 3-byte UTF-8.
    const std::string ascii = unique_key("k");
    std::string key_utf8 = ascii;
    for (std::size_t i = ascii.size(); i < 100; ++i) key_utf8 += "\xea\xb0\x80";  // U+AC00
    const auto u = client.post(charge_path(user), charge_body(3, key_utf8));
    ASSERT_EQ(u.status, 200) << u.body;
    EXPECT_EQ(pg.idempotency_rows(user, key_utf8), 1);

    EXPECT_EQ(as_i64(u.json().at("balance")), before + 1 + 10'000'000 + 2 + 3);
    EXPECT_EQ(pg.balance(user), before + 1 + 10'000'000 + 2 + 3);
}

TEST_F(UsersE2E, ChargeReplayReturnsByteIdenticalBodyAndChargesOnce) {
    constexpr std::int64_t user = 7004;
    Pg pg;
    HttpClient client(port());
    const std::int64_t before = pg.balance(user);
    const std::string key = unique_key("users-replay");

    const auto first = client.post(charge_path(user), charge_body(500, key));
    ASSERT_EQ(first.status, 200) << first.body;

    // Another charge moves the balance on; the replay must still return the stored first response.
    const auto other = client.post(charge_path(user), charge_body(70, unique_key("users-replay-other")));
    ASSERT_EQ(other.status, 200) << other.body;

    const auto replay = client.post(charge_path(user), charge_body(500, key));
    EXPECT_EQ(replay.status, 200);
    EXPECT_EQ(replay.body, first.body);

    // On a fresh connection, with the fields in another order and an unknown field (ignored).
    HttpClient fresh(port());
    const auto replay2 =
        fresh.post(charge_path(user), R"({"note":"x","idempotencyKey":")" + key + R"(","amount":500})");
    EXPECT_EQ(replay2.status, 200);
    EXPECT_EQ(replay2.body, first.body);

    EXPECT_EQ(pg.balance(user), before + 500 + 70);
    EXPECT_EQ(pg.idempotency_rows(user, key), 1);
}

TEST_F(UsersE2E, ReusingKeyWithDifferentAmountIsRejected) {
    constexpr std::int64_t user = 7005;
    Pg pg;
    HttpClient client(port());
    const std::int64_t before = pg.balance(user);
    const std::string key = unique_key("users-reuse");

    const auto first = client.post(charge_path(user), charge_body(300, key));
    ASSERT_EQ(first.status, 200) << first.body;

    const auto reuse = client.post(charge_path(user), charge_body(301, key));
    expect_error(reuse, 400, "COMMON002");
    EXPECT_NE(error_message(reuse).find("idempotencyKey"), std::string::npos) << reuse.body;

    EXPECT_EQ(pg.balance(user), before + 300);
    EXPECT_EQ(pg.idempotency_rows(user, key), 1);

    // The original request still replays its own response.
    const auto replay = client.post(charge_path(user), charge_body(300, key));
    EXPECT_EQ(replay.status, 200);
    EXPECT_EQ(replay.body, first.body);
    EXPECT_EQ(pg.balance(user), before + 300);
}

TEST_F(UsersE2E, SameKeyOnDifferentUsersIsIndependent) {
    constexpr std::int64_t user_a = 7006;
    constexpr std::int64_t user_b = 7007;
    Pg pg;
    HttpClient client(port());
    const std::int64_t before_a = pg.balance(user_a);
    const std::int64_t before_b = pg.balance(user_b);
    const std::string key = unique_key("users-shared");

    const auto a = client.post(charge_path(user_a), charge_body(40, key));
    ASSERT_EQ(a.status, 200) << a.body;
    const auto b = client.post(charge_path(user_b), charge_body(60, key));
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(as_i64(b.json().at("userId")), user_b);
    EXPECT_EQ(pg.balance(user_a), before_a + 40);
    EXPECT_EQ(pg.balance(user_b), before_b + 60);
}

TEST_F(UsersE2E, UnknownUserIs404OnEveryEndpoint) {
    Pg pg;
    HttpClient client(port());
    const std::string id = std::to_string(kUnknownUser);

    const auto user = client.get(user_path(kUnknownUser));
    expect_error(user, 404, "U001");
    EXPECT_NE(error_message(user).find(id), std::string::npos) << user.body;

    const auto balance = client.get(balance_path(kUnknownUser));
    expect_error(balance, 404, "U001");
    EXPECT_NE(error_message(balance).find(id), std::string::npos) << balance.body;

    const auto charge = client.post(charge_path(kUnknownUser), charge_body(100, unique_key("users-unknown")));
    expect_error(charge, 404, "U001");
    EXPECT_NE(error_message(charge).find(id), std::string::npos) << charge.body;
    EXPECT_EQ(pg.idempotency_rows(kUnknownUser), 0)
        << "a charge of an unknown user left an idempotency record";
    EXPECT_EQ(pg.int64("SELECT count(*) FROM users WHERE id = $1", {id}), 0);
}

// Expired idempotency records are deleted by the periodic purge (idempotency.purge-interval); after
// that a request with the key is a new request. A record not yet expired stays, and so does its replay.
TEST(IdempotencyPurgeE2E, AnExpiredChargeRecordIsDeletedAndItsKeyChargesAgainAnUnexpiredOneStays) {
    ServerProcess server({"idempotency.purge-interval=200ms"});
    server.wait_ready(60s);
    constexpr std::int64_t user = 7010;
    Pg pg;
    HttpClient client(server.port());
    const std::int64_t before = pg.balance(user);
    const auto expired = unique_key("users-purge-expired");
    const auto live = unique_key("users-purge-live");
    const auto first = client.post(charge_path(user), charge_body(100, expired));
    ASSERT_EQ(first.status, 200) << first.body;
    const auto kept = client.post(charge_path(user), charge_body(10, live));
    ASSERT_EQ(kept.status, 200) << kept.body;

    // A day later, as far as the record can tell.
    pg.exec(
        "UPDATE idempotency_records SET expires_at = now() - interval '1 second' "
        "WHERE user_id = $1 AND idempotency_key = $2",
        {std::to_string(user), expired});
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (pg.idempotency_rows(user, expired) != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(pg.idempotency_rows(user, expired), 0) << "the expired record was not deleted";
    EXPECT_EQ(pg.idempotency_rows(user, live), 1);

    const auto again = client.post(charge_path(user), charge_body(100, expired));
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_NE(again.body, first.body) << "a new charge, not the replay of the first";
    const auto replay = client.post(charge_path(user), charge_body(10, live));
    EXPECT_EQ(replay.body, kept.body);
    EXPECT_EQ(pg.balance(user), before + 100 + 10 + 100);

    const auto metrics = client.get("/actuator/prometheus").body;
    EXPECT_GE(prometheus_value(metrics, "idempotency_records_purged_total").value_or(0), 1.0) << metrics;
}

}  // namespace
}  // namespace ec::e2e
