// HTTP/1.1 behaviour (keep-alive, pipelining, X-Request-Id) and the operational endpoints
// (SPEC §4.2 actuator, §9). Users 7300-7319 belong to this file.
#include <sstream>

#include "e2e/e2e_support.hpp"

namespace ec::e2e {
namespace {

namespace bj = boost::json;

class HttpProtocolE2E : public ServerSuite<HttpProtocolE2E> {};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// The value of the first exposition line that starts with `name{` and contains every label.
std::optional<double> sample(const std::string& exposition, const std::string& name,
                             const std::vector<std::string>& labels) {
    for (const auto& line : lines_of(exposition)) {
        if (!line.starts_with(name + "{")) continue;
        const auto close = line.rfind('}');  // label values may contain braces: uri="/api/users/{userId}"
        if (close == std::string::npos) continue;
        const std::string label_set = line.substr(0, close + 1);
        bool all = true;
        for (const auto& l : labels) all = all && label_set.find(l) != std::string::npos;
        if (all) return std::stod(line.substr(close + 1));
    }
    return std::nullopt;
}

TEST_F(HttpProtocolE2E, KeepAliveReusesOneConnection) {
    constexpr std::int64_t user = 7300;
    HttpClient client(port());
    for (int i = 0; i < 20; ++i) {
        const auto r = i % 2 == 0 ? client.get(balance_path(user)) : client.get(user_path(user));
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_NE(r.header("connection"), "close");
    }
    EXPECT_EQ(client.connections_opened(), 1);

    // HTTP/1.1 `Connection: close` is honoured: the server answers and closes.
    const auto last = client.get(balance_path(user), {{"Connection", "close"}});
    EXPECT_EQ(last.status, 200);
    const auto again = client.get(balance_path(user));
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(client.connections_opened(), 2);
}

TEST_F(HttpProtocolE2E, PipelinedRequestsAreAnsweredInOrder) {
    const std::vector<std::int64_t> users = {7301, 7302, 7303};
    std::string bytes;
    for (std::size_t i = 0; i < users.size(); ++i) {
        bytes += "GET " + user_path(users[i]) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: pipe-" +
                 std::to_string(i) + "\r\n" + (i + 1 == users.size() ? "Connection: close\r\n" : "") + "\r\n";
    }
    const std::string received = HttpClient::raw(port(), bytes, 10s);
    const auto responses = parse_raw_responses(received);
    ASSERT_EQ(responses.size(), users.size()) << received;
    for (std::size_t i = 0; i < users.size(); ++i) {
        SCOPED_TRACE("response " + std::to_string(i));
        EXPECT_EQ(responses[i].status, 200) << responses[i].body;
        EXPECT_EQ(responses[i].header("x-request-id"), "pipe-" + std::to_string(i));
        const auto v = bj::parse(responses[i].body);
        EXPECT_EQ(as_i64(v.at("userId")), users[i]) << responses[i].body;
    }
}

TEST_F(HttpProtocolE2E, PipelinedPostsAreAnsweredInOrder) {
    constexpr std::int64_t user = 7304;
    Pg pg;
    const std::int64_t before = pg.balance(user);
    const std::string prefix = unique_key("pipe-post") + "-";
    std::string bytes;
    for (int i = 0; i < 3; ++i) {
        const std::string body = charge_body(10 + i, prefix + std::to_string(i));
        bytes += "POST " + charge_path(user) +
                 " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n" + (i == 2 ? "Connection: close\r\n" : "") + "\r\n" +
                 body;
    }
    const auto responses = parse_raw_responses(HttpClient::raw(port(), bytes, 10s));
    ASSERT_EQ(responses.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(responses[i].status, 200) << responses[i].body;
        EXPECT_EQ(as_i64(bj::parse(responses[i].body).at("chargedAmount")), 10 + i);
    }
    EXPECT_EQ(as_i64(bj::parse(responses[2].body).at("balance")), before + 10 + 11 + 12);
    EXPECT_EQ(pg.balance(user), before + 33);
}

TEST_F(HttpProtocolE2E, RequestIdIsEchoedOrGenerated) {
    constexpr std::int64_t user = 7305;
    HttpClient client(port());

    const auto echoed = client.get(balance_path(user), {{"X-Request-Id", "e2e-req-42"}});
    EXPECT_EQ(echoed.status, 200);
    EXPECT_EQ(echoed.header("x-request-id"), "e2e-req-42");

    const auto echoed_error = client.get("/api/no/such/route", {{"X-Request-Id", "e2e-req-43"}});
    EXPECT_EQ(echoed_error.status, 404);
    EXPECT_EQ(echoed_error.header("x-request-id"), "e2e-req-43");

    const auto a = client.get(balance_path(user));
    const auto b = client.get(balance_path(user));
    const auto e = client.post(charge_path(user), "{", "application/json");
    for (const auto* r : {&a, &b, &e}) EXPECT_FALSE(r->header("x-request-id").empty()) << r->status;
    EXPECT_NE(a.header("x-request-id"), b.header("x-request-id"));
    EXPECT_NE(b.header("x-request-id"), e.header("x-request-id"));

    // Responses written before routing (oversized headers, malformed request) carry one too.
    const auto big =
        parse_raw_responses(HttpClient::raw(port(),
                                            "GET " + balance_path(user) + " HTTP/1.1\r\nHost: x\r\nX-Pad: " +
                                                std::string(20000, 'p') + "\r\n\r\n",
                                            5s, true));
    ASSERT_EQ(big.size(), 1u);
    EXPECT_EQ(big[0].status, 431);
    EXPECT_FALSE(big[0].header("x-request-id").empty()) << "431 response has no X-Request-Id";
}

TEST_F(HttpProtocolE2E, PrometheusExposesRequestTimersAndPoolGauges) {
    constexpr std::int64_t user = 7306;
    HttpClient client(port());
    constexpr int n = 5;
    for (int i = 0; i < n; ++i) ASSERT_EQ(client.get(balance_path(user)).status, 200);
    ASSERT_EQ(client.get("/api/users/abc/balance").status, 400);

    const auto r = client.get("/actuator/prometheus");
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.header("content-type").find("text/plain"), std::string::npos) << r.header("content-type");
    const std::string& text = r.body;

    const std::vector<std::string> ok_labels = {R"(method="GET")", R"(uri="/api/users/{userId}/balance")",
                                                R"(status="200")", R"(outcome="SUCCESS")"};
    const auto count = sample(text, "http_server_requests_seconds_count", ok_labels);
    ASSERT_TRUE(count.has_value()) << "no http_server_requests_seconds_count for the balance route:\n"
                                   << text.substr(0, 4000);
    EXPECT_GE(*count, n);
    const auto sum = sample(text, "http_server_requests_seconds_sum", ok_labels);
    ASSERT_TRUE(sum.has_value());
    EXPECT_GT(*sum, 0.0);
    auto inf_labels = ok_labels;
    inf_labels.emplace_back(R"(le="+Inf")");
    const auto inf = sample(text, "http_server_requests_seconds_bucket", inf_labels);
    ASSERT_TRUE(inf.has_value());
    EXPECT_EQ(*inf, *count);

    // The route template, never the raw path (no cardinality explosion); errors counted as such.
    EXPECT_EQ(text.find(R"(uri="/api/users/7306)"), std::string::npos);
    const auto bad =
        sample(text, "http_server_requests_seconds_count",
               {R"(uri="/api/users/{userId}/balance")", R"(status="400")", R"(outcome="CLIENT_ERROR")"});
    ASSERT_TRUE(bad.has_value());
    EXPECT_GE(*bad, 1);

    for (const std::string gauge :
         {"hikaricp_connections", "hikaricp_connections_active", "hikaricp_connections_idle",
          "hikaricp_connections_pending", "hikaricp_connections_max", "hikaricp_connections_min"}) {
        const auto v = sample(text, gauge, {R"(pool="HikariPool-1")"});
        EXPECT_TRUE(v.has_value()) << "missing " << gauge;
        if (v) EXPECT_GE(*v, 0) << gauge;
    }
    EXPECT_NE(text.find("# TYPE hikaricp_connections_active gauge"), std::string::npos);
    const auto max = sample(text, "hikaricp_connections_max", {R"(pool="HikariPool-1")"});
    ASSERT_TRUE(max.has_value());
    EXPECT_GE(*max, 1);
}

TEST_F(HttpProtocolE2E, ActuatorMetricsUsesSpringShapes) {
    HttpClient client(port());
    const auto names = client.get("/actuator/metrics");
    ASSERT_EQ(names.status, 200) << names.body;
    const auto nv = names.json();
    ASSERT_TRUE(nv.as_object().contains("names")) << names.body;
    bool has_active = false;
    bool has_requests = false;
    for (const auto& n : nv.at("names").as_array()) {
        has_active = has_active || n.as_string() == "hikaricp.connections.active";
        has_requests = has_requests || n.as_string() == "http.server.requests";
    }
    EXPECT_TRUE(has_active) << names.body;
    EXPECT_TRUE(has_requests) << names.body;

    const auto m = client.get("/actuator/metrics/hikaricp.connections.active");
    ASSERT_EQ(m.status, 200) << m.body;
    const auto v = m.json();
    EXPECT_EQ(v.at("name").as_string(), "hikaricp.connections.active");
    ASSERT_TRUE(v.at("measurements").is_array()) << m.body;
    ASSERT_FALSE(v.at("measurements").as_array().empty()) << m.body;
    const auto& first = v.at("measurements").as_array()[0];
    EXPECT_EQ(first.at("statistic").as_string(), "VALUE");
    EXPECT_TRUE(first.at("value").is_number()) << m.body;
    EXPECT_TRUE(v.at("availableTags").is_array()) << m.body;

    expect_error(client.get("/actuator/metrics/no.such.metric"), 404, "COMMON003");
}

TEST_F(HttpProtocolE2E, HealthIsUpWithDbAndRedis) {
    HttpClient client(port());
    const auto h = client.get("/actuator/health");
    ASSERT_EQ(h.status, 200) << h.body;
    const auto v = h.json();
    EXPECT_EQ(v.at("status").as_string(), "UP");
    const auto& components = v.at("components").as_object();
    ASSERT_TRUE(components.contains("db")) << h.body;
    ASSERT_TRUE(components.contains("redis")) << h.body;
    EXPECT_EQ(components.at("db").at("status").as_string(), "UP");
    EXPECT_EQ(components.at("redis").at("status").as_string(), "UP");

    for (const std::string path : {"/actuator/health/liveness", "/actuator/health/readiness"}) {
        const auto r = client.get(path);
        EXPECT_EQ(r.status, 200) << path << ": " << r.body;
        EXPECT_EQ(r.json().at("status").as_string(), "UP") << path;
    }
}

}  // namespace
}  // namespace ec::e2e
