#include "ops/metrics.hpp"

#include <atomic>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace ec::ops {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

bool has_line(const std::string& text, const std::string& line) {
    for (const auto& l : lines_of(text))
        if (l == line) return true;
    return false;
}

double num(const boost::json::value& v) {
    return v.to_number<double>();
}
std::string str(const boost::json::value& v) {
    return std::string(v.as_string());
}

const Labels kHttpLabels{
    {"method", "GET"}, {"uri", "/api/users/{userId}"}, {"status", "200"}, {"outcome", "SUCCESS"}};

TEST(MetricsExposition, CounterGetsTotalSuffix) {
    MetricsRegistry r;
    r.counter("hikaricp.connections.timeout", "Connection timeout total count", {{"pool", "main"}});
    EXPECT_EQ(r.render_prometheus(),
              "# HELP hikaricp_connections_timeout_total Connection timeout total count\n"
              "# TYPE hikaricp_connections_timeout_total counter\n"
              "hikaricp_connections_timeout_total{pool=\"main\"} 0\n");
}

TEST(MetricsExposition, CounterDottedTotalIsNotDoubled) {
    MetricsRegistry r;
    r.counter("coupon.reservation.total", "Reservations", {{"result", "success"}}).increment(2);
    EXPECT_EQ(r.render_prometheus(),
              "# HELP coupon_reservation_total Reservations\n"
              "# TYPE coupon_reservation_total counter\n"
              "coupon_reservation_total{result=\"success\"} 2\n");
}

TEST(MetricsExposition, GaugeKeepsName) {
    MetricsRegistry r;
    r.gauge("hikaricp.connections.active", "Active connections", {{"pool", "main"}}).set(2);
    EXPECT_EQ(r.render_prometheus(),
              "# HELP hikaricp_connections_active Active connections\n"
              "# TYPE hikaricp_connections_active gauge\n"
              "hikaricp_connections_active{pool=\"main\"} 2\n");
}

TEST(MetricsExposition, UnlabelledSeriesHasNoBraces) {
    MetricsRegistry r;
    r.gauge("outbox.lag", "Unpublished events").set(7);
    EXPECT_TRUE(has_line(r.render_prometheus(), "outbox_lag 7"));
}

TEST(MetricsExposition, TimerIsHistogramPlusMaxGauge) {
    MetricsRegistry r;
    Timer& t = r.timer("redis.command", "Redis command latency", {{"cmd", "GET"}}, {0.01, 0.005});
    t.record(0.00390625);  // binary-exact values keep _sum exact
    t.record(0.0078125);
    t.record(0.5);
    EXPECT_EQ(r.render_prometheus(),
              "# HELP redis_command_seconds Redis command latency\n"
              "# TYPE redis_command_seconds histogram\n"
              "redis_command_seconds_bucket{cmd=\"GET\",le=\"0.005\"} 1\n"
              "redis_command_seconds_bucket{cmd=\"GET\",le=\"0.01\"} 2\n"
              "redis_command_seconds_bucket{cmd=\"GET\",le=\"+Inf\"} 3\n"
              "redis_command_seconds_count{cmd=\"GET\"} 3\n"
              "redis_command_seconds_sum{cmd=\"GET\"} 0.51171875\n"
              "# HELP redis_command_seconds_max Redis command latency\n"
              "# TYPE redis_command_seconds_max gauge\n"
              "redis_command_seconds_max{cmd=\"GET\"} 0.5\n");
}

TEST(MetricsExposition, HttpServerRequestsMatchesMicrometer) {
    MetricsRegistry r;
    Timer& t = r.timer("http.server.requests", "HTTP server requests", kHttpLabels);
    t.record(0.0023);
    t.record(0.005);  // on the bound: le is inclusive
    t.record(0.005);
    const std::string text = r.render_prometheus();
    const std::string lbl = R"(method="GET",uri="/api/users/{userId}",status="200",outcome="SUCCESS")";
    EXPECT_TRUE(has_line(text, "# TYPE http_server_requests_seconds histogram"));
    EXPECT_TRUE(has_line(text, "http_server_requests_seconds_bucket{" + lbl + ",le=\"0.0025\"} 1"));
    EXPECT_TRUE(has_line(text, "http_server_requests_seconds_bucket{" + lbl + ",le=\"0.005\"} 3"));
    EXPECT_TRUE(has_line(text, "http_server_requests_seconds_bucket{" + lbl + ",le=\"1\"} 3"));
    EXPECT_TRUE(has_line(text, "http_server_requests_seconds_bucket{" + lbl + ",le=\"+Inf\"} 3"));
    EXPECT_TRUE(has_line(text, "http_server_requests_seconds_count{" + lbl + "} 3"));
    EXPECT_TRUE(has_line(text, "http_server_requests_seconds_sum{" + lbl + "} 0.0123"));
    EXPECT_TRUE(has_line(text, "http_server_requests_seconds_max{" + lbl + "} 0.005"));
    int bucket_lines = 0;
    for (const auto& l : lines_of(text))
        if (l.rfind("http_server_requests_seconds_bucket{", 0) == 0) ++bucket_lines;
    EXPECT_EQ(bucket_lines, static_cast<int>(default_timer_buckets().size()) + 1);
}

TEST(MetricsExposition, DefaultBuckets) {
    EXPECT_EQ(default_timer_buckets(), (std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}));
}

TEST(MetricsExposition, FamiliesSortedWithOneHelpAndTypeEach) {
    MetricsRegistry r;
    r.gauge("zeta", "z").set(1);
    r.counter("alpha", "a", {{"k", "1"}});
    r.counter("alpha", "a", {{"k", "2"}});
    r.timer("mid", "m", {}, {1});
    std::vector<std::string> types;
    for (const auto& l : lines_of(r.render_prometheus()))
        if (l.rfind("# TYPE ", 0) == 0) types.push_back(l);
    EXPECT_EQ(types, (std::vector<std::string>{"# TYPE alpha_total counter", "# TYPE mid_seconds histogram",
                                               "# TYPE mid_seconds_max gauge", "# TYPE zeta gauge"}));
}

TEST(MetricsExposition, LabelValuesAndHelpAreEscaped) {
    MetricsRegistry r;
    r.gauge("esc", "line1\nback\\slash \"quoted\"", {{"v", "a\\b\"c\nd"}}).set(1);
    const std::string text = r.render_prometheus();
    EXPECT_TRUE(has_line(text, R"(# HELP esc line1\nback\\slash "quoted")")) << text;
    EXPECT_TRUE(has_line(text, R"(esc{v="a\\b\"c\nd"} 1)")) << text;
}

TEST(MetricsExposition, NumbersAreCompact) {
    MetricsRegistry r;
    r.gauge("g", "", {{"c", "a"}}).set(0.1);
    r.gauge("g", "", {{"c", "b"}}).set(-3);
    r.gauge("g", "", {{"c", "c"}}).set(std::numeric_limits<double>::infinity());
    r.gauge("g", "", {{"c", "d"}}).set(-std::numeric_limits<double>::infinity());
    r.gauge("g", "", {{"c", "e"}}).set(std::nan(""));
    r.gauge("g", "", {{"c", "f"}}).set(1e20);
    r.gauge("g", "", {{"c", "g"}}).set(123456789);
    const std::string text = r.render_prometheus();
    EXPECT_TRUE(has_line(text, R"(g{c="a"} 0.1)"));
    EXPECT_TRUE(has_line(text, R"(g{c="b"} -3)"));
    EXPECT_TRUE(has_line(text, R"(g{c="c"} +Inf)"));
    EXPECT_TRUE(has_line(text, R"(g{c="d"} -Inf)"));
    EXPECT_TRUE(has_line(text, R"(g{c="e"} NaN)"));
    EXPECT_TRUE(has_line(text, R"(g{c="f"} 1e+20)"));
    EXPECT_TRUE(has_line(text, R"(g{c="g"} 123456789)"));
}

TEST(MetricsTimer, BucketsAreCumulativeAndUpperInclusive) {
    Timer t({0.1, 0.01, 1});  // unsorted on purpose
    EXPECT_EQ(t.bounds(), (std::vector<double>{0.01, 0.1, 1}));
    t.record(0.01);  // exactly on a bound: counted in le="0.01"
    t.record(0.05);
    t.record(0.05);
    t.record(0.5);
    t.record(7);
    t.record(-1);  // clamped to 0
    EXPECT_EQ(t.cumulative_buckets(), (std::vector<std::uint64_t>{2, 4, 5, 6}));
    EXPECT_EQ(t.count(), 6u);
    EXPECT_DOUBLE_EQ(t.sum(), 0.01 + 0.05 + 0.05 + 0.5 + 7);
    EXPECT_EQ(t.max(), 7);
}

TEST(MetricsTimer, ExposedBucketsNeverDecrease) {
    MetricsRegistry r;
    Timer& t = r.timer("lat", "", {});
    for (double v : {0.0001, 0.003, 0.003, 0.02, 0.2, 0.7, 3.0, 12.0, 100.0}) t.record(v);
    double prev = -1;
    int n = 0;
    for (const auto& l : lines_of(r.render_prometheus())) {
        if (l.rfind("lat_seconds_bucket", 0) != 0) continue;
        double v = std::stod(l.substr(l.rfind(' ') + 1));
        EXPECT_GE(v, prev) << l;
        prev = v;
        ++n;
    }
    EXPECT_EQ(n, 16);
    EXPECT_EQ(prev, 9);
}

TEST(MetricsRegistry, KindConflictThrows) {
    MetricsRegistry r;
    r.counter("orders", "");
    EXPECT_THROW(r.gauge("orders", ""), std::logic_error);
    EXPECT_THROW(r.timer("orders", ""), std::logic_error);
    EXPECT_THROW(r.gauge_fn("orders", "", {}, [] { return 1.0; }), std::logic_error);
    r.gauge("pool.size", "");
    EXPECT_THROW(r.counter("pool.size", ""), std::logic_error);
}

TEST(MetricsRegistry, PrometheusNameCollisionThrows) {
    MetricsRegistry r;
    r.counter("a", "");  // a_total
    EXPECT_THROW(r.gauge("a.total", ""), std::logic_error);
    r.timer("t", "");  // t_seconds, t_seconds_max, ...
    EXPECT_THROW(r.gauge("t.seconds.max", ""), std::logic_error);
}

TEST(MetricsRegistry, TimerBucketLayoutIsFixedPerName) {
    MetricsRegistry r;
    r.timer("t", "", {{"a", "1"}}, {1, 2});
    EXPECT_NO_THROW(r.timer("t", "", {{"a", "2"}}, {2, 1}));
    EXPECT_THROW(r.timer("t", "", {{"a", "3"}}, {1, 3}), std::logic_error);
}

TEST(MetricsRegistry, InvalidLabelsThrow) {
    MetricsRegistry r;
    EXPECT_THROW(r.counter("c", "", {{"k", "1"}, {"k", "2"}}), std::invalid_argument);
    EXPECT_THROW(r.timer("t", "", {{"le", "1"}}), std::invalid_argument);
}

TEST(MetricsRegistry, SameLabelsSameObject) {
    MetricsRegistry r;
    Counter& a = r.counter("c", "", {{"x", "1"}, {"y", "2"}});
    EXPECT_EQ(&a, &r.counter("c", "", {{"x", "1"}, {"y", "2"}}));
    EXPECT_EQ(&a, &r.counter("c", "", {{"y", "2"}, {"x", "1"}}));  // a label set, not a list
    EXPECT_NE(&a, &r.counter("c", "", {{"x", "1"}, {"y", "3"}}));
    Gauge& g = r.gauge("g", "");
    EXPECT_EQ(&g, &r.gauge("g", ""));
    Timer& t = r.timer("t", "", {{"k", "v"}});
    EXPECT_EQ(&t, &r.timer("t", "", {{"k", "v"}}));

    // References survive the containers growing.
    for (int i = 0; i < 2000; ++i) {
        r.counter("c", "", {{"x", std::to_string(i)}, {"y", "z"}});
        r.gauge("g" + std::to_string(i), "");
    }
    a.increment(5);
    EXPECT_EQ(r.counter("c", "", {{"x", "1"}, {"y", "2"}}).value(), 5);
}

TEST(MetricsRegistry, CounterIgnoresNegativeAndNaN) {
    Counter c;
    c.increment();
    c.increment(2.5);
    c.increment(-10);
    c.increment(std::nan(""));
    EXPECT_EQ(c.value(), 3.5);
}

TEST(MetricsRegistry, GaugeFnEvaluatedAtScrape) {
    MetricsRegistry r;
    std::atomic<int> calls{0};
    double size = 3;
    r.gauge_fn("hikaricp.connections", "Total connections", {{"pool", "main"}}, [&] {
        ++calls;
        return size;
    });
    EXPECT_EQ(calls, 0);
    EXPECT_TRUE(has_line(r.render_prometheus(), R"(hikaricp_connections{pool="main"} 3)"));
    size = 8;
    EXPECT_TRUE(has_line(r.render_prometheus(), R"(hikaricp_connections{pool="main"} 8)"));
    EXPECT_EQ(calls, 2);
}

TEST(MetricsRegistry, GaugeFnMayUseRegistryWithoutDeadlock) {
    MetricsRegistry r;
    r.gauge_fn("reentrant", "", {}, [&r] {
        r.counter("scrapes", "").increment();
        return r.counter("scrapes", "").value();
    });
    EXPECT_TRUE(has_line(r.render_prometheus(), "reentrant 1"));
    auto m = r.actuator_metric("reentrant", {});
    ASSERT_TRUE(m);
    EXPECT_EQ(num(m->at("measurements").as_array()[0].as_object().at("value")), 2);
}

TEST(MetricsRegistry, GaugeFnReplacedAndThrowingCallbackIsNaN) {
    MetricsRegistry r;
    r.gauge_fn("g", "", {}, [] { return 1.0; });
    r.gauge_fn("g", "", {}, [] { return 2.0; });
    EXPECT_TRUE(has_line(r.render_prometheus(), "g 2"));
    r.gauge_fn("g", "", {}, []() -> double { throw std::runtime_error("pool gone"); });
    EXPECT_TRUE(has_line(r.render_prometheus(), "g NaN"));
    EXPECT_THROW(r.gauge("g", ""), std::logic_error);  // callback series cannot become settable
}

TEST(MetricsActuator, NamesSortedDotted) {
    MetricsRegistry r;
    r.timer("http.server.requests", "", kHttpLabels);
    r.counter("coupon.reservation", "");
    r.gauge("hikaricp.connections.active", "", {{"pool", "main"}});
    EXPECT_EQ(boost::json::serialize(r.actuator_names()),
              R"({"names":["coupon.reservation","hikaricp.connections.active","http.server.requests"]})");
}

TEST(MetricsActuator, TimerShapeAndTagFiltering) {
    MetricsRegistry r;
    const std::string help = "HTTP server requests";
    r.timer("http.server.requests", help, kHttpLabels).record(0.005);
    r.timer("http.server.requests", help, kHttpLabels).record(0.0025);
    r.timer("http.server.requests", help,
            {{"method", "POST"}, {"uri", "/api/orders"}, {"status", "201"}, {"outcome", "SUCCESS"}})
        .record(0.5);
    r.timer("http.server.requests", help,
            {{"method", "GET"}, {"uri", "/api/orders"}, {"status", "404"}, {"outcome", "CLIENT_ERROR"}})
        .record(0.25);

    auto all = r.actuator_metric("http.server.requests", {});
    ASSERT_TRUE(all);
    EXPECT_EQ(str(all->at("name")), "http.server.requests");
    EXPECT_EQ(str(all->at("description")), help);
    EXPECT_EQ(str(all->at("baseUnit")), "seconds");
    const auto& ms = all->at("measurements").as_array();
    ASSERT_EQ(ms.size(), 3u);
    EXPECT_EQ(str(ms[0].at("statistic")), "COUNT");
    EXPECT_EQ(num(ms[0].at("value")), 4);
    EXPECT_EQ(str(ms[1].at("statistic")), "TOTAL_TIME");
    EXPECT_DOUBLE_EQ(num(ms[1].at("value")), 0.7575);
    EXPECT_EQ(str(ms[2].at("statistic")), "MAX");
    EXPECT_EQ(num(ms[2].at("value")), 0.5);
    EXPECT_EQ(boost::json::serialize(all->at("availableTags")),
              R"([{"tag":"method","values":["GET","POST"]},)"
              R"({"tag":"outcome","values":["CLIENT_ERROR","SUCCESS"]},)"
              R"({"tag":"status","values":["200","201","404"]},)"
              R"({"tag":"uri","values":["/api/orders","/api/users/{userId}"]}])");

    auto get = r.actuator_metric("http.server.requests", {{"method", "GET"}});
    ASSERT_TRUE(get);
    EXPECT_EQ(num(get->at("measurements").as_array()[0].at("value")), 3);
    EXPECT_EQ(num(get->at("measurements").as_array()[2].at("value")), 0.25);
    // The filtered tag is no longer offered; the others narrow to the matching series.
    EXPECT_EQ(boost::json::serialize(get->at("availableTags")),
              R"([{"tag":"outcome","values":["CLIENT_ERROR","SUCCESS"]},)"
              R"({"tag":"status","values":["200","404"]},)"
              R"({"tag":"uri","values":["/api/orders","/api/users/{userId}"]}])");

    auto one = r.actuator_metric("http.server.requests", {{"method", "GET"}, {"status", "200"}});
    ASSERT_TRUE(one);
    EXPECT_EQ(num(one->at("measurements").as_array()[0].at("value")), 2);
    EXPECT_DOUBLE_EQ(num(one->at("measurements").as_array()[1].at("value")), 0.0075);

    EXPECT_FALSE(r.actuator_metric("http.server.requests", {{"method", "DELETE"}}));
    EXPECT_FALSE(r.actuator_metric("http.server.requests", {{"nosuchtag", "x"}}));
    EXPECT_FALSE(r.actuator_metric("http_server_requests_seconds", {}));
}

TEST(MetricsActuator, CounterShape) {
    MetricsRegistry r;
    r.counter("orders", "Orders created", {{"result", "ok"}}).increment(3);
    r.counter("orders", "Orders created", {{"result", "rejected"}}).increment();
    auto m = r.actuator_metric("orders", {{"result", "ok"}});
    ASSERT_TRUE(m);
    EXPECT_EQ(boost::json::serialize(*m),
              R"({"name":"orders","description":"Orders created","baseUnit":null,)"
              R"("measurements":[{"statistic":"COUNT","value":3}],"availableTags":[]})");
    auto all = r.actuator_metric("orders", {});
    ASSERT_TRUE(all);
    EXPECT_EQ(num(all->at("measurements").as_array()[0].at("value")), 4);
    EXPECT_EQ(boost::json::serialize(all->at("availableTags")),
              R"([{"tag":"result","values":["ok","rejected"]}])");
}

TEST(MetricsActuator, GaugeSumsMatchingSeriesIncludingCallbacks) {
    MetricsRegistry r;
    r.gauge("hikaricp.connections.active", "Active", {{"pool", "main"}}).set(2);
    r.gauge_fn("hikaricp.connections.active", "Active", {{"pool", "replica"}}, [] { return 5.0; });
    auto m = r.actuator_metric("hikaricp.connections.active", {});
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->at("baseUnit").is_null());
    const auto& ms = m->at("measurements").as_array();
    ASSERT_EQ(ms.size(), 1u);
    EXPECT_EQ(str(ms[0].at("statistic")), "VALUE");
    EXPECT_EQ(num(ms[0].at("value")), 7);
    auto main = r.actuator_metric("hikaricp.connections.active", {{"pool", "main"}});
    ASSERT_TRUE(main);
    EXPECT_EQ(num(main->at("measurements").as_array()[0].at("value")), 2);
}

TEST(MetricsActuator, UnknownNameIsNullopt) {
    MetricsRegistry r;
    EXPECT_FALSE(r.actuator_metric("nope", {}));
}

TEST(MetricsConcurrency, EightThreadsSumExactly) {
    constexpr int kThreads = 8;
    constexpr int kPerThread = 100'000;
    MetricsRegistry r;
    std::vector<std::thread> threads;
    std::atomic<bool> go{false};
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&] {
            // Looked up concurrently too: registration must hand every thread the same objects.
            Counter& c = r.counter("payment", "", {{"result", "ok"}});
            Gauge& g = r.gauge("inflight", "");
            Timer& t = r.timer("op", "", {}, {0.5});
            while (!go.load()) std::this_thread::yield();
            for (int n = 0; n < kPerThread; ++n) {
                c.increment();
                g.add(1);
                t.record(n % 2 == 0 ? 0.25 : 1.0);
            }
        });
    }
    std::thread scraper([&] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 20; ++i) (void)r.render_prometheus();
    });
    go = true;
    for (auto& t : threads) t.join();
    scraper.join();

    constexpr double kTotal = double(kThreads) * kPerThread;
    EXPECT_EQ(r.counter("payment", "", {{"result", "ok"}}).value(), kTotal);
    EXPECT_EQ(r.gauge("inflight", "").value(), kTotal);
    Timer& t = r.timer("op", "", {}, {0.5});
    EXPECT_EQ(t.count(), static_cast<std::uint64_t>(kTotal));
    EXPECT_EQ(t.cumulative_buckets(), (std::vector<std::uint64_t>{400'000, 800'000}));
    EXPECT_EQ(t.sum(), kTotal / 2 * 0.25 + kTotal / 2 * 1.0);
    EXPECT_EQ(t.max(), 1.0);
    EXPECT_TRUE(has_line(r.render_prometheus(), R"(payment_total{result="ok"} 800000)"));
}

}  // namespace
}  // namespace ec::ops
