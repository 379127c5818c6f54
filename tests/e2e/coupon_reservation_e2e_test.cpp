// FCFS coupon reservation over real HTTP against the real binary, real Redis and PostgreSQL
// (SPEC §4.2, §7): the answer's shape, the issuer turning a reservation into a user coupon, every
// refusal writing nothing, the status API, the mix with the synchronous issue path, and a request
// the database keeps refusing ending compensated in the dead-letter stream.
#include "e2e/reservation_support.hpp"

namespace ec::e2e {
namespace {

class ReservationE2E : public ServerSuite<ReservationE2E> {};

TEST_F(ReservationE2E, ReserveAnswersItsSequenceAndTheIssuerIssuesTheCoupon) {
    CommercePg pg;
    RedisAdmin redis;
    HttpClient client(port());
    const auto coupon = pg.insert_coupon(10, 3);

    const auto r = client.post(reserve_path(coupon), user_id_body(1100));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto v = r.json();
    ASSERT_TRUE(expect_keys(v, {"couponId", "userId", "sequenceNumber", "status", "message"}));
    expect_integer_fields(v, {"couponId", "userId", "sequenceNumber"});
    EXPECT_EQ(as_i64(v.at("couponId")), coupon);
    EXPECT_EQ(as_i64(v.at("userId")), 1100);
    EXPECT_EQ(as_i64(v.at("sequenceNumber")), 1);
    EXPECT_EQ(str(v.at("status")), "RESERVED");
    EXPECT_NE(str(v.at("message")).find("(#1)"), std::string::npos) << r.body;

    const auto second = client.post(reserve_path(coupon), user_id_body(1101));
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(as_i64(second.json().at("sequenceNumber")), 2);

    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    EXPECT_EQ(pg.user_coupon_status(1100, coupon), "AVAILABLE");
    EXPECT_EQ(pg.user_coupon_status(1101, coupon), "AVAILABLE");
    EXPECT_EQ(pg.issued_quantity(coupon), 2);
    EXPECT_EQ(status_of(client, coupon, 1100), "ISSUED");
    EXPECT_EQ(status_of(client, coupon, 1102), "NONE");
    // The coupon detail counts the issued units.
    const auto detail = client.get(coupon_path(coupon));
    ASSERT_EQ(detail.status, 200) << detail.body;
    EXPECT_EQ(as_i64(detail.json().at("issuedQuantity")), 2);
    EXPECT_EQ(as_i64(detail.json().at("remainingQuantity")), 1);
    // The user's coupons list it.
    const auto mine = client.get(user_coupons_path(1100));
    ASSERT_EQ(mine.status, 200) << mine.body;
    EXPECT_NE(find_by(mine.json().at("coupons"), "couponId", coupon), nullptr) << mine.body;
}

TEST_F(ReservationE2E, TheSameUserAgainIsC004AndSoldOutIsC001) {
    CommercePg pg;
    RedisAdmin redis;
    HttpClient client(port());
    const auto coupon = pg.insert_coupon(10, 2);
    ASSERT_EQ(client.post(reserve_path(coupon), user_id_body(1110)).status, 200);
    // At once: reserved (or already issued if the issuer was quicker); both are C004.
    const auto again = client.post(reserve_path(coupon), user_id_body(1110));
    expect_error(again, 400, "C004");
    ASSERT_EQ(client.post(reserve_path(coupon), user_id_body(1111)).status, 200);
    const auto sold_out = client.post(reserve_path(coupon), user_id_body(1112));
    expect_error(sold_out, 409, "C001");
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    // Issued now: still C004, with the "issued" wording.
    const auto issued = client.post(reserve_path(coupon), user_id_body(1110));
    expect_error(issued, 400, "C004");
    EXPECT_NE(error_message(issued).find("issued"), std::string::npos) << issued.body;
    EXPECT_EQ(pg.issued_quantity(coupon), 2);
    EXPECT_EQ(holders(pg, coupon), (std::vector<std::int64_t>{1110, 1111}));
    EXPECT_EQ(status_of(client, coupon, 1112), "NONE");
}

TEST_F(ReservationE2E, RefusalsWriteNothing) {
    CommercePg pg;
    RedisAdmin redis;
    HttpClient client(port());
    const auto coupon = pg.insert_coupon(10, 5);
    const auto expired = pg.insert_coupon(10, 5, "now() - interval '10 days'", "now() - interval '1 day'");
    const auto future = pg.insert_coupon(10, 5, "now() + interval '1 day'", "now() + interval '10 days'");

    expect_error(client.post(reserve_path(coupon), user_id_body(kUnknownId)), 404, "U001");
    expect_error(client.post(reserve_path(kUnknownId), user_id_body(1120)), 400, "C002");
    expect_error(client.post(reserve_path(expired), user_id_body(1120)), 400, "C003");
    expect_error(client.post(reserve_path(future), user_id_body(1120)), 400, "C003");
    expect_error(client.post(reserve_path(coupon), "{}"), 400, "COMMON002");
    expect_error(client.post(reserve_path(coupon), R"({"userId":"1120"})"), 400, "COMMON002");
    expect_error(client.post(reserve_path(coupon), R"({"userId":1120)"), 400, "COMMON002");
    expect_error(client.post(reserve_path(coupon), "userId=1120", "text/plain"), 415, "COMMON006");
    expect_error(client.post("/api/coupons/abc/reserve", user_id_body(1120)), 400, "COMMON002");
    expect_error(client.get(reserve_path(coupon)), 405, "COMMON004");

    for (const auto c : {coupon, expired, future}) {
        EXPECT_EQ(unsettled(redis, c), 0) << "coupon " << c;
        EXPECT_EQ(pg.issued_quantity(c), 0) << "coupon " << c;
        EXPECT_EQ(pg.coupon_holders(c), 0) << "coupon " << c;
    }
    // The only valid call afterwards is the first reservation of the coupon.
    const auto ok = client.post(reserve_path(coupon), user_id_body(1120));
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(as_i64(ok.json().at("sequenceNumber")), 1);
}

TEST_F(ReservationE2E, StatusRefusesUnknownUsersAndCoupons) {
    CommercePg pg;
    HttpClient client(port());
    const auto coupon = pg.insert_coupon(10, 5);
    const auto r = client.get(reservation_path(coupon, 1130));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(expect_keys(r.json(), {"couponId", "userId", "status"}));
    EXPECT_EQ(as_i64(r.json().at("couponId")), coupon);
    EXPECT_EQ(as_i64(r.json().at("userId")), 1130);
    EXPECT_EQ(str(r.json().at("status")), "NONE");
    expect_error(client.get(reservation_path(coupon, kUnknownId)), 404, "U001");
    expect_error(client.get(reservation_path(kUnknownId, 1130)), 400, "C002");
    expect_error(client.get("/api/coupons/1/reservations/x"), 400, "COMMON002");
}

// The gate starts from what the database says (SPEC §7.5): units issued synchronously before the
// first reservation are not reserved again, and their holders are "already issued".
TEST_F(ReservationE2E, TheGateStartsFromTheUnitsTheDatabaseAlreadyIssued) {
    CommercePg pg;
    RedisAdmin redis;
    HttpClient client(port());
    const auto coupon = pg.insert_coupon(10, 10);
    for (std::int64_t u = 1140; u < 1144; ++u)
        ASSERT_EQ(client.post(issue_path(coupon), user_id_body(u)).status, 200);

    expect_error(client.post(reserve_path(coupon), user_id_body(1140)), 400, "C004");
    const auto tally = reserve_all(port(), coupon, user_range(1150, 20), 10);
    EXPECT_EQ(tally.count(200), 6) << tally.summary();
    EXPECT_EQ(tally.code("C001"), 14) << tally.summary();
    expect_sequences_one_to(tally.sequences, 5, 10);
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    auto all = tally.winners;
    for (std::int64_t u = 1140; u < 1144; ++u) all.push_back(u);
    expect_issued_exactly(pg, coupon, all, 10);
}

// When the synchronous path takes the units the gate still counts as free, the issuer finds the
// coupon sold out in the database: the reservation is cancelled (FAILED, no restock) and the
// database never over-issues (SPEC §7, last paragraph).
TEST_F(ReservationE2E, UnitsTakenBehindTheGatesBackEndFailedNeverOverIssued) {
    CommercePg pg;
    RedisAdmin redis;
    HttpClient client(port());
    const auto coupon = pg.insert_coupon(10, 5);
    ASSERT_EQ(client.post(reserve_path(coupon), user_id_body(1170)).status, 200);  // gate: 4 left
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    for (std::int64_t u = 1171; u < 1175; ++u)
        ASSERT_EQ(client.post(issue_path(coupon), user_id_body(u)).status, 200);
    ASSERT_EQ(pg.issued_quantity(coupon), 5);

    for (std::int64_t u = 1175; u < 1179; ++u) {
        const auto r = client.post(reserve_path(coupon), user_id_body(u));
        EXPECT_EQ(r.status, 200) << r.body;  // the gate does not know yet
    }
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    for (std::int64_t u = 1175; u < 1179; ++u) EXPECT_EQ(status_of(client, coupon, u), "FAILED") << u;
    EXPECT_EQ(pg.issued_quantity(coupon), 5);
    EXPECT_EQ(pg.coupon_holders(coupon), 5);
    // No restock: the gate's last unit was handed out, the next one is sold out.
    expect_error(client.post(reserve_path(coupon), user_id_body(1179)), 409, "C001");
    EXPECT_EQ(redis.command({"GET", coupon_redis_key(coupon, "remaining")}).str, "0");
}

// A request the database keeps refusing (here a constraint added for the test) is retried, then
// compensated: restocked, status FAILED, and written to the dead-letter stream (SPEC §7.4).
class ReservationDeadLetterE2E : public ServerSuite<ReservationDeadLetterE2E> {
public:
    static std::vector<std::string> server_settings() { return {"coupon.issuer.max-retries=3"}; }
};

TEST_F(ReservationDeadLetterE2E, ARequestTheDatabaseKeepsRefusingIsCompensatedAndDeadLettered) {
    CommercePg pg;
    RedisAdmin redis;
    HttpClient client(port());
    const auto coupon = pg.insert_coupon(10, 3);
    const std::string constraint = "e2e_refuse_" + std::to_string(coupon);
    pg.exec("ALTER TABLE user_coupons ADD CONSTRAINT " + constraint +
            " CHECK (NOT (coupon_id = " + std::to_string(coupon) + " AND user_id = 1180)) NOT VALID");
    struct DropConstraint {
        CommercePg& pg;
        std::string name;
        ~DropConstraint() { pg.exec("ALTER TABLE user_coupons DROP CONSTRAINT IF EXISTS " + name); }
    } drop{pg, constraint};

    ASSERT_EQ(client.post(reserve_path(coupon), user_id_body(1180)).status, 200);
    ASSERT_EQ(client.post(reserve_path(coupon), user_id_body(1181)).status, 200);
    ASSERT_TRUE(wait_settled(redis, coupon, 20s)) << "still unsettled: " << unsettled(redis, coupon);

    EXPECT_EQ(status_of(client, coupon, 1180), "FAILED");
    EXPECT_EQ(status_of(client, coupon, 1181), "ISSUED");
    EXPECT_EQ(holders(pg, coupon), (std::vector<std::int64_t>{1181}));
    EXPECT_EQ(pg.issued_quantity(coupon), 1);
    // Restocked: 3 - 2 reserved + 1 given back.
    EXPECT_EQ(redis.command({"GET", coupon_redis_key(coupon, "remaining")}).str, "2");
    const auto dead = redis.command({"XRANGE", coupon_redis_key(coupon, "dead-letters"), "-", "+"});
    ASSERT_EQ(dead.elements.size(), 1u);
    std::map<std::string, std::string> fields;
    const auto& f = dead.elements[0].elements.at(1).elements;
    for (std::size_t i = 0; i + 1 < f.size(); i += 2) fields[f[i].str] = f[i + 1].str;
    EXPECT_EQ(fields["userId"], "1180");
    EXPECT_EQ(fields["couponId"], std::to_string(coupon));
    EXPECT_NE(fields["reason"].find(constraint), std::string::npos) << fields["reason"];
    EXPECT_FALSE(fields["entryId"].empty());
    const auto metrics = client.get("/actuator/prometheus").body;
    EXPECT_NE(metrics.find("coupon_issuer_requests_total{result=\"dead_letter\"} 1"), std::string::npos);

    // After a failure the user may try again; with the constraint gone the retry is issued.
    pg.exec("ALTER TABLE user_coupons DROP CONSTRAINT " + constraint);
    const auto retry = client.post(reserve_path(coupon), user_id_body(1180));
    ASSERT_EQ(retry.status, 200) << retry.body;
    ASSERT_TRUE(wait_settled(redis, coupon, 5s));
    EXPECT_EQ(status_of(client, coupon, 1180), "ISSUED");
    EXPECT_EQ(pg.issued_quantity(coupon), 2);
}

// The issuer makes its issues durable through the WAL flush barrier's rounds whatever
// datasource.flush-barrier says (that setting only decides how order and payment commits wait).
class ReservationWithPerCommitFlushesE2E : public ServerSuite<ReservationWithPerCommitFlushesE2E> {
public:
    static std::vector<std::string> server_settings() { return {"datasource.flush-barrier=false"}; }
};

TEST_F(ReservationWithPerCommitFlushesE2E, TheIssuerStillFlushesThroughTheBarrierAndIssues) {
    CommercePg pg;
    RedisAdmin redis;
    HttpClient client(port());
    const auto coupon = pg.insert_coupon(10, 3);
    ASSERT_EQ(client.post(reserve_path(coupon), user_id_body(1190)).status, 200);
    ASSERT_EQ(client.post(reserve_path(coupon), user_id_body(1191)).status, 200);
    ASSERT_TRUE(wait_settled(redis, coupon, 10s)) << "still unsettled: " << unsettled(redis, coupon);
    EXPECT_EQ(status_of(client, coupon, 1190), "ISSUED");
    EXPECT_EQ(status_of(client, coupon, 1191), "ISSUED");
    EXPECT_EQ(holders(pg, coupon), (std::vector<std::int64_t>{1190, 1191}));
    EXPECT_EQ(pg.issued_quantity(coupon), 2);
    const auto metrics = client.get("/actuator/prometheus").body;
    EXPECT_GE(prometheus_value(metrics, "pg_flush_barrier_rounds_total").value_or(0), 1.0) << metrics;
}

}  // namespace
}  // namespace ec::e2e
