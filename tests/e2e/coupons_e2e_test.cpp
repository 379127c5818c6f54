// Coupon endpoints (SPEC §4.2, §7 last paragraph; commerce contract "Coupons") over real HTTP
// against the real binary: synchronous issue with every refusal writing nothing, the coupon
// detail, and a user's coupons with the status filter. Users 5200-5239 belong to this file; every
// coupon is inserted here with a unique code.
#include <functional>

#include "e2e/commerce_support.hpp"

namespace ec::e2e {
namespace {

class CouponsE2E : public ServerSuite<CouponsE2E> {};

std::string coupon_name(CommercePg& pg, std::int64_t coupon) {
    return pg.exec("SELECT name FROM coupons WHERE id = $1", {std::to_string(coupon)});
}

// Expects nothing of `coupon` to have been issued: counter and holders both zero.
void expect_nothing_issued(CommercePg& pg, std::int64_t coupon) {
    EXPECT_EQ(pg.issued_quantity(coupon), 0);
    EXPECT_EQ(pg.coupon_holders(coupon), 0);
}

TEST_F(CouponsE2E, IssueReturnsTheUserCouponWithExactShape) {
    constexpr std::int64_t user = 5200;
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t coupon = pg.insert_coupon(15, 10);

    const auto r = client.post(issue_path(coupon), user_id_body(user));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_keys(v, {"userCouponId", "couponId", "couponName", "discountRate", "status",
                                "issuedAt", "expiresAt", "remainingQuantity"}));
    expect_integer_fields(v, {"userCouponId", "couponId", "discountRate", "remainingQuantity"});
    expect_string_fields(v, {"couponName", "status"});
    expect_timestamp_fields(v, {"issuedAt", "expiresAt"});
    EXPECT_EQ(as_i64(v.at("couponId")), coupon);
    EXPECT_EQ(str(v.at("couponName")), coupon_name(pg, coupon));
    EXPECT_EQ(as_i64(v.at("discountRate")), 15);
    EXPECT_EQ(str(v.at("status")), "AVAILABLE");
    EXPECT_EQ(as_i64(v.at("remainingQuantity")), 9);

    // What was written: one AVAILABLE user coupon expiring with the coupon, the counter + 1.
    EXPECT_EQ(pg.issued_quantity(coupon), 1);
    EXPECT_EQ(pg.coupon_holders(coupon), 1);
    EXPECT_EQ(pg.user_coupon_status(user, coupon), "AVAILABLE");
    const std::int64_t uc = as_i64(v.at("userCouponId"));
    EXPECT_EQ(pg.int64("SELECT id FROM user_coupons WHERE user_id = $1 AND coupon_id = $2",
                       {std::to_string(user), std::to_string(coupon)}),
              uc);
    EXPECT_EQ(str(v.at("issuedAt")), pg.local_ts("user_coupons", "issued_at", uc));
    EXPECT_EQ(str(v.at("expiresAt")), pg.local_ts("coupons", "end_date", coupon));
    // issuedAt is Asia/Seoul local time, i.e. close to "now" there.
    const auto skew =
        pg.scalar("SELECT abs(extract(epoch FROM ($1::timestamp - (now() AT TIME ZONE 'Asia/Seoul'))))",
                  {str(v.at("issuedAt"))});
    ASSERT_TRUE(skew.has_value());
    EXPECT_LT(std::stod(*skew), 120.0) << str(v.at("issuedAt"));
}

TEST_F(CouponsE2E, IssueIgnoresUnknownFieldsAndCountsDown) {
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t coupon = pg.insert_coupon(5, 3);
    const std::int64_t other = pg.insert_coupon(5, 3);

    // An unknown field, and a couponId in the body that differs from the path: the path wins.
    const auto a = client.post(
        issue_path(coupon), bj::serialize(bj::object{{"userId", 5201}, {"couponId", other}, {"note", "x"}}));
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(as_i64(a.json().at("couponId")), coupon);
    EXPECT_EQ(as_i64(a.json().at("remainingQuantity")), 2);
    const auto b = client.post(issue_path(coupon), user_id_body(5202));
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(as_i64(b.json().at("remainingQuantity")), 1);
    EXPECT_NE(as_i64(a.json().at("userCouponId")), as_i64(b.json().at("userCouponId")));
    EXPECT_EQ(pg.issued_quantity(coupon), 2);
    expect_nothing_issued(pg, other);
}

TEST_F(CouponsE2E, IssuingTwiceToOneUserIsC004) {
    constexpr std::int64_t user = 5203;
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t coupon = pg.insert_coupon(10, 5);
    const auto first = client.post(issue_path(coupon), user_id_body(user));
    ASSERT_EQ(first.status, 200) << first.body;

    const auto again = client.post(issue_path(coupon), user_id_body(user));
    expect_error(again, 400, "C004");
    EXPECT_EQ(pg.issued_quantity(coupon), 1);
    EXPECT_EQ(pg.coupon_holders(coupon), 1);
    EXPECT_EQ(pg.user_coupon_status(user, coupon), "AVAILABLE");
}

TEST_F(CouponsE2E, SoldOutIsC001AndWritesNothing) {
    constexpr std::int64_t winner = 5204;
    constexpr std::int64_t late = 5205;
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t coupon = pg.insert_coupon(10, 1);
    const auto won = client.post(issue_path(coupon), user_id_body(winner));
    ASSERT_EQ(won.status, 200) << won.body;
    EXPECT_EQ(as_i64(won.json().at("remainingQuantity")), 0);

    const std::int64_t late_coupons = pg.user_coupon_rows(late);
    const auto r = client.post(issue_path(coupon), user_id_body(late));
    expect_error(r, 409, "C001");
    EXPECT_EQ(pg.issued_quantity(coupon), 1);
    EXPECT_EQ(pg.coupon_holders(coupon), 1);
    EXPECT_EQ(pg.user_coupon_status(late, coupon), "");
    EXPECT_EQ(pg.user_coupon_rows(late), late_coupons);
    // The winner asking again is still C004 (already has it), not C001.
    expect_error(client.post(issue_path(coupon), user_id_body(winner)), 400, "C004");
}

TEST_F(CouponsE2E, OutsideTheWindowIsC003AndWritesNothing) {
    constexpr std::int64_t user = 5206;
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t not_started =
        pg.insert_coupon(10, 5, "now() + interval '1 day'", "now() + interval '2 days'");
    const std::int64_t ended =
        pg.insert_coupon(10, 5, "now() - interval '2 days'", "now() - interval '1 minute'");
    const std::int64_t before = pg.user_coupon_rows(user);

    expect_error(client.post(issue_path(not_started), user_id_body(user)), 400, "C003");
    expect_nothing_issued(pg, not_started);
    expect_error(client.post(issue_path(ended), user_id_body(user)), 400, "C003");
    expect_nothing_issued(pg, ended);
    EXPECT_EQ(pg.user_coupon_rows(user), before);
}

struct Case {
    std::string name;
    std::function<HttpResponse(HttpClient&)> send;
    int status;
    std::string code;
    std::string message_contains;  // "" = any message
};

TEST_F(CouponsE2E, IssueRejectsBadInputAndWritesNothing) {
    constexpr std::int64_t user = 5207;
    CommercePg pg;
    const std::int64_t coupon = pg.insert_coupon(10, 5);
    const std::int64_t user_before = pg.user_coupon_rows(user);
    const std::string path = issue_path(coupon);
    auto post = [path](std::string body) {
        return [path, body](HttpClient& c) { return c.post(path, body); };
    };

    const std::vector<Case> cases = {
        {"unknown coupon", [&](HttpClient& c) { return c.post(issue_path(kUnknownId), user_id_body(user)); },
         400, "C002", std::to_string(kUnknownId)},
        {"unknown user", post(user_id_body(kUnknownId)), 404, "U001", std::to_string(kUnknownId)},
        {"missing userId", post("{}"), 400, "COMMON002", "userId"},
        {"userId null", post(R"({"userId":null})"), 400, "COMMON002", "userId"},
        {"userId as string", post(R"({"userId":"5207"})"), 400, "COMMON002", "userId"},
        {"userId 1.5", post(R"({"userId":1.5})"), 400, "COMMON002", "userId"},
        {"malformed JSON", post(R"({"userId":)"), 400, "COMMON002", ""},
        {"empty body", post(""), 400, "COMMON002", ""},
        {"non-numeric coupon id",
         [&](HttpClient& c) { return c.post("/api/coupons/abc/issue", user_id_body(user)); }, 400,
         "COMMON002", "couponId"},
        {"text/plain", [&](HttpClient& c) { return c.post(path, user_id_body(user), "text/plain"); }, 415,
         "COMMON006", ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE("case: " + c.name);
        HttpClient client(port());
        const auto r = c.send(client);
        expect_error(r, c.status, c.code);
        if (!c.message_contains.empty()) {
            EXPECT_NE(error_message(r).find(c.message_contains), std::string::npos)
                << "message should name '" << c.message_contains << "': " << r.body;
        }
        expect_nothing_issued(pg, coupon);
        EXPECT_EQ(pg.user_coupon_rows(user), user_before);
        EXPECT_EQ(pg.user_coupon_rows(kUnknownId), 0);
    }
    // The well-formed request succeeds.
    HttpClient client(port());
    ASSERT_EQ(client.post(path, user_id_body(user)).status, 200);
    EXPECT_EQ(pg.issued_quantity(coupon), 1);
}

TEST_F(CouponsE2E, GetCouponReturnsItsCounts) {
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t coupon =
        pg.insert_coupon(25, 4, "now() - interval '3 days'", "now() + interval '7 days'");

    const auto r = client.get(coupon_path(coupon));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_keys(v, {"couponId", "name", "discountRate", "totalQuantity", "issuedQuantity",
                                "remainingQuantity", "startDate", "endDate"}));
    expect_integer_fields(
        v, {"couponId", "discountRate", "totalQuantity", "issuedQuantity", "remainingQuantity"});
    expect_string_fields(v, {"name"});
    expect_timestamp_fields(v, {"startDate", "endDate"});
    EXPECT_EQ(as_i64(v.at("couponId")), coupon);
    EXPECT_EQ(str(v.at("name")), coupon_name(pg, coupon));
    EXPECT_EQ(as_i64(v.at("discountRate")), 25);
    EXPECT_EQ(as_i64(v.at("totalQuantity")), 4);
    EXPECT_EQ(as_i64(v.at("issuedQuantity")), 0);
    EXPECT_EQ(as_i64(v.at("remainingQuantity")), 4);
    EXPECT_EQ(str(v.at("startDate")), pg.local_ts("coupons", "start_date", coupon));
    EXPECT_EQ(str(v.at("endDate")), pg.local_ts("coupons", "end_date", coupon));

    ASSERT_EQ(client.post(issue_path(coupon), user_id_body(5208)).status, 200);
    const auto after =
        poll_until([&] { return client.get(coupon_path(coupon)); },
                   [](const HttpResponse& resp) {
                       return resp.status == 200 && as_i64(resp.json().at("issuedQuantity")) == 1;
                   });
    ASSERT_EQ(after.status, 200) << after.body;
    EXPECT_EQ(as_i64(after.json().at("issuedQuantity")), 1) << after.body;
    EXPECT_EQ(as_i64(after.json().at("remainingQuantity")), 3) << after.body;
}

TEST_F(CouponsE2E, GetUnknownCouponIsC002) {
    HttpClient client(port());
    const auto r = client.get(coupon_path(kUnknownId));
    expect_error(r, 400, "C002");
    EXPECT_NE(error_message(r).find(std::to_string(kUnknownId)), std::string::npos) << r.body;
    expect_error(client.get("/api/coupons/abc"), 400, "COMMON002");
    expect_error(client.get("/api/coupons/99999999999999999999"), 400, "COMMON002");
}

// ------------------------------------------------------------------------------------------------
// GET /api/users/{userId}/coupons

HttpResponse user_coupons(HttpClient& client, std::int64_t user, const std::string& status = {}) {
    return client.get(user_coupons_path(user) + (status.empty() ? "" : "?status=" + status));
}

// Expects the list shape and that every entry has `status` (when given); returns the coupons array.
bj::array expect_user_coupon_list(const HttpResponse& r, std::int64_t user, const std::string& status = {}) {
    EXPECT_EQ(r.status, 200) << r.body;
    const auto v = r.json();
    if (!expect_keys(v, {"userId", "coupons", "totalCount"}) || !v.at("coupons").is_array()) return {};
    EXPECT_EQ(as_i64(v.at("userId")), user);
    const auto& coupons = v.at("coupons").as_array();
    EXPECT_TRUE(is_integer(v.at("totalCount"))) << r.body;
    EXPECT_EQ(as_i64(v.at("totalCount")), static_cast<std::int64_t>(coupons.size())) << r.body;
    for (const auto& c : coupons) {
        expect_user_coupon_shape(c);
        if (!status.empty()) {
            EXPECT_EQ(str(c.at("status")), status) << r.body;
        }
    }
    return coupons;
}

TEST_F(CouponsE2E, UserCouponsNewestFirstWithStatusFilter) {
    constexpr std::int64_t user = 5209;
    CommercePg pg;
    HttpClient client(port());
    pg.set_balance(user, 100'000);
    const std::int64_t older = pg.insert_coupon(10, 5);
    const std::int64_t newer = pg.insert_coupon(20, 5);
    // An expired one, as the data would look after its window closed.
    const std::int64_t expired =
        pg.insert_coupon(30, 5, "now() - interval '5 days'", "now() - interval '1 day'");
    pg.exec(
        "INSERT INTO user_coupons (user_id, coupon_id, status, issued_at, expires_at) "
        "VALUES ($1, $2, 'EXPIRED', now() - interval '4 days', now() - interval '1 day')",
        {std::to_string(user), std::to_string(expired)});
    ASSERT_EQ(client.post(issue_path(older), user_id_body(user)).status, 200);
    ASSERT_EQ(client.post(issue_path(newer), user_id_body(user)).status, 200);

    {
        const auto r = user_coupons(client, user);
        EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
        const auto all = expect_user_coupon_list(r, user);
        const bj::value list(all);
        ASSERT_EQ(index_of(list, "couponId", newer), 0) << "newest first: " << r.body;
        ASSERT_EQ(index_of(list, "couponId", older), 1) << r.body;
        EXPECT_GT(index_of(list, "couponId", expired), 1) << r.body;
        const auto& n = all[0];
        EXPECT_EQ(str(n.at("couponName")), coupon_name(pg, newer));
        EXPECT_EQ(as_i64(n.at("discountRate")), 20);
        EXPECT_EQ(str(n.at("status")), "AVAILABLE");
        EXPECT_TRUE(n.at("usedAt").is_null()) << r.body;
        const std::int64_t uc = as_i64(n.at("userCouponId"));
        EXPECT_EQ(str(n.at("issuedAt")), pg.local_ts("user_coupons", "issued_at", uc));
        EXPECT_EQ(str(n.at("expiresAt")), pg.local_ts("user_coupons", "expires_at", uc));
        EXPECT_EQ(
            str(list.as_array()[static_cast<std::size_t>(index_of(list, "couponId", expired))].at("status")),
            "EXPIRED");
    }
    // Status filter, case-insensitive.
    for (const std::string s : {"AVAILABLE", "available", "Available"}) {
        SCOPED_TRACE("status=" + s);
        const bj::value list(expect_user_coupon_list(user_coupons(client, user, s), user, "AVAILABLE"));
        EXPECT_GE(index_of(list, "couponId", newer), 0);
        EXPECT_GE(index_of(list, "couponId", older), 0);
        EXPECT_EQ(index_of(list, "couponId", expired), -1);
    }
    for (const std::string s : {"EXPIRED", "expired"}) {
        SCOPED_TRACE("status=" + s);
        const bj::value list(expect_user_coupon_list(user_coupons(client, user, s), user, "EXPIRED"));
        EXPECT_GE(index_of(list, "couponId", expired), 0);
        EXPECT_EQ(index_of(list, "couponId", newer), -1);
    }
    {
        const bj::value list(expect_user_coupon_list(user_coupons(client, user, "USED"), user, "USED"));
        EXPECT_EQ(index_of(list, "couponId", older), -1);
        EXPECT_EQ(index_of(list, "couponId", newer), -1);
    }

    // Pay an order with the older coupon: it turns USED with usedAt.
    const std::int64_t product = pg.insert_product(1'000, 10);
    const auto order =
        client.post("/api/orders", order_body(user, {{product, 2}}, older, unique_key("uc-order")));
    ASSERT_EQ(order.status, 201) << order.body;
    const std::int64_t order_id = as_i64(order.json().at("orderId"));
    const auto paid = client.post(payment_path(order_id), payment_body(user, unique_key("uc-pay")));
    ASSERT_EQ(paid.status, 200) << paid.body;

    for (const std::string s : {"USED", "used"}) {
        SCOPED_TRACE("status=" + s);
        const bj::value list(expect_user_coupon_list(user_coupons(client, user, s), user, "USED"));
        const auto i = index_of(list, "couponId", older);
        ASSERT_GE(i, 0) << bj::serialize(list);
        const auto& used = list.as_array()[static_cast<std::size_t>(i)];
        ASSERT_TRUE(used.at("usedAt").is_string()) << bj::serialize(used);
        const std::int64_t uc = as_i64(used.at("userCouponId"));
        EXPECT_EQ(str(used.at("usedAt")), pg.local_ts("user_coupons", "used_at", uc));
        EXPECT_EQ(pg.int64("SELECT used_order_id FROM user_coupons WHERE id = $1", {std::to_string(uc)}),
                  order_id);
        EXPECT_EQ(index_of(list, "couponId", newer), -1);
    }
    {
        const bj::value list(
            expect_user_coupon_list(user_coupons(client, user, "AVAILABLE"), user, "AVAILABLE"));
        EXPECT_EQ(index_of(list, "couponId", older), -1);
        EXPECT_GE(index_of(list, "couponId", newer), 0);
    }
    {
        // Unfiltered: still every coupon, the used one with its new status.
        const bj::value list(expect_user_coupon_list(user_coupons(client, user), user));
        const auto i = index_of(list, "couponId", older);
        ASSERT_GE(i, 0);
        EXPECT_EQ(str(list.as_array()[static_cast<std::size_t>(i)].at("status")), "USED");
    }
}

TEST_F(CouponsE2E, UserWithoutCouponsGetsAnEmptyList) {
    CommercePg pg;
    HttpClient client(port());
    // User 5210 never gets a coupon in these tests.
    constexpr std::int64_t user = 5210;
    ASSERT_EQ(pg.user_coupon_rows(user), 0) << "user 5210 is reserved for the empty-list case";
    const auto r = user_coupons(client, user);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json(), bj::parse(R"({"userId":5210,"coupons":[],"totalCount":0})")) << r.body;
}

TEST_F(CouponsE2E, UserCouponsRejectsBadInput) {
    HttpClient client(port());
    for (const std::string s : {"ISSUED", "RESERVED", "all", "USED,AVAILABLE"}) {
        SCOPED_TRACE("status=" + s);
        expect_error(user_coupons(client, 5211, s), 400, "COMMON002");
    }
    const auto unknown = user_coupons(client, kUnknownId);
    expect_error(unknown, 404, "U001");
    EXPECT_NE(error_message(unknown).find(std::to_string(kUnknownId)), std::string::npos) << unknown.body;
    expect_error(client.get("/api/users/abc/coupons"), 400, "COMMON002");
}

}  // namespace
}  // namespace ec::e2e
