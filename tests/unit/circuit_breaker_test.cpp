#include "ops/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "ops/metrics.hpp"

namespace ec::ops {
namespace {

using namespace std::chrono_literals;
using State = CircuitBreaker::State;

// A manually advanced clock: the breaker only ever sees time through it.
struct FakeClock {
    std::chrono::steady_clock::time_point now{std::chrono::steady_clock::time_point{} + 1h};
    CircuitBreaker::Clock fn() {
        return [this] { return now; };
    }
};

BreakerConfig config(int failures, Millis wait, int half_open_calls, int successes) {
    BreakerConfig c;
    c.failure_threshold = failures;
    c.wait_in_open = wait;
    c.half_open_max_calls = half_open_calls;
    c.success_threshold = successes;
    return c;
}

// Drives a closed breaker to Open with `n` admitted, failed calls.
void fail_n(CircuitBreaker& b, int n) {
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(b.try_acquire());
        b.on_failure();
    }
}

TEST(CircuitBreaker, StartsClosedAndAdmitsCalls) {
    FakeClock clock;
    CircuitBreaker b("redis", config(3, 1000ms, 1, 1), clock.fn());
    EXPECT_EQ(b.state(), State::Closed);
    EXPECT_EQ(b.name(), "redis");
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(b.try_acquire());
}

TEST(CircuitBreaker, OpensAfterConsecutiveFailureThreshold) {
    FakeClock clock;
    CircuitBreaker b("redis", config(3, 1000ms, 1, 1), clock.fn());
    fail_n(b, 2);
    EXPECT_EQ(b.state(), State::Closed);
    fail_n(b, 1);
    EXPECT_EQ(b.state(), State::Open);
    EXPECT_FALSE(b.try_acquire());
}

TEST(CircuitBreaker, SuccessResetsConsecutiveFailureCount) {
    FakeClock clock;
    CircuitBreaker b("redis", config(3, 1000ms, 1, 1), clock.fn());
    fail_n(b, 2);
    ASSERT_TRUE(b.try_acquire());
    b.on_success();
    fail_n(b, 2);
    EXPECT_EQ(b.state(), State::Closed) << "failures are counted consecutively, not in total";
    fail_n(b, 1);
    EXPECT_EQ(b.state(), State::Open);
}

TEST(CircuitBreaker, StaysOpenUntilWaitElapsedThenHalfOpen) {
    FakeClock clock;
    CircuitBreaker b("redis", config(1, 1000ms, 1, 1), clock.fn());
    fail_n(b, 1);
    ASSERT_EQ(b.state(), State::Open);

    clock.now += 999ms;
    EXPECT_FALSE(b.try_acquire());
    EXPECT_EQ(b.state(), State::Open);

    clock.now += 1ms;
    EXPECT_TRUE(b.try_acquire());
    EXPECT_EQ(b.state(), State::HalfOpen);
}

TEST(CircuitBreaker, HalfOpenAdmitsAtMostMaxConcurrentTrialCalls) {
    FakeClock clock;
    CircuitBreaker b("redis", config(1, 500ms, 2, 3), clock.fn());
    fail_n(b, 1);
    clock.now += 500ms;

    EXPECT_TRUE(b.try_acquire());
    EXPECT_TRUE(b.try_acquire());
    EXPECT_FALSE(b.try_acquire()) << "third concurrent trial call must be rejected";
    EXPECT_EQ(b.state(), State::HalfOpen);

    // A finished trial frees its slot for the next one.
    b.on_success();
    EXPECT_EQ(b.state(), State::HalfOpen);
    EXPECT_TRUE(b.try_acquire());
    EXPECT_FALSE(b.try_acquire());
}

TEST(CircuitBreaker, SuccessThresholdInHalfOpenCloses) {
    FakeClock clock;
    CircuitBreaker b("redis", config(2, 500ms, 1, 2), clock.fn());
    fail_n(b, 2);
    clock.now += 500ms;

    ASSERT_TRUE(b.try_acquire());
    b.on_success();
    EXPECT_EQ(b.state(), State::HalfOpen) << "one success of two required";
    ASSERT_TRUE(b.try_acquire());
    b.on_success();
    EXPECT_EQ(b.state(), State::Closed);

    // Closed again with a fresh failure count.
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(b.try_acquire());
    fail_n(b, 1);
    EXPECT_EQ(b.state(), State::Closed);
    fail_n(b, 1);
    EXPECT_EQ(b.state(), State::Open);
}

TEST(CircuitBreaker, FailureInHalfOpenReopensAndRestartsWait) {
    FakeClock clock;
    CircuitBreaker b("redis", config(1, 1000ms, 3, 3), clock.fn());
    fail_n(b, 1);
    clock.now += 1000ms;

    ASSERT_TRUE(b.try_acquire());
    b.on_success();
    ASSERT_TRUE(b.try_acquire());
    b.on_failure();
    EXPECT_EQ(b.state(), State::Open) << "any failure while half-open reopens";
    EXPECT_FALSE(b.try_acquire());

    // The open period counts from the reopening, not from the first opening.
    clock.now += 999ms;
    EXPECT_FALSE(b.try_acquire());
    clock.now += 1ms;
    EXPECT_TRUE(b.try_acquire());
    EXPECT_EQ(b.state(), State::HalfOpen);

    // The earlier half-open success does not carry over: three fresh ones are needed.
    b.on_success();
    ASSERT_TRUE(b.try_acquire());
    b.on_success();
    EXPECT_EQ(b.state(), State::HalfOpen);
    ASSERT_TRUE(b.try_acquire());
    b.on_success();
    EXPECT_EQ(b.state(), State::Closed);
}

TEST(CircuitBreaker, LateOutcomesWhileOpenDoNotChangeTheOpenPeriod) {
    FakeClock clock;
    CircuitBreaker b("redis", config(2, 1000ms, 1, 1), clock.fn());
    // Four calls in flight when the dependency dies.
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(b.try_acquire());
    b.on_failure();
    b.on_failure();
    ASSERT_EQ(b.state(), State::Open);

    clock.now += 600ms;
    b.on_failure();  // straggler: must not push recovery out
    b.on_success();  // straggler: must not close early
    EXPECT_EQ(b.state(), State::Open);
    clock.now += 400ms;
    EXPECT_TRUE(b.try_acquire());
    EXPECT_EQ(b.state(), State::HalfOpen);
}

TEST(CircuitBreaker, DegenerateConfigIsClampedToWorkingValues) {
    FakeClock clock;
    CircuitBreaker b("redis", config(0, 0ms, 0, 0), clock.fn());
    ASSERT_TRUE(b.try_acquire());
    b.on_failure();
    EXPECT_EQ(b.state(), State::Open);
    EXPECT_TRUE(b.try_acquire()) << "zero wait: the first call after opening is a trial";
    EXPECT_FALSE(b.try_acquire()) << "at least one trial call, never zero";
    b.on_success();
    EXPECT_EQ(b.state(), State::Closed);
}

TEST(CircuitBreaker, StateNames) {
    EXPECT_EQ(to_string(State::Closed), "closed");
    EXPECT_EQ(to_string(State::Open), "open");
    EXPECT_EQ(to_string(State::HalfOpen), "half_open");
}

TEST(CircuitBreaker, ExportsStateGaugesAndCallCounters) {
    FakeClock clock;
    MetricsRegistry registry;
    CircuitBreaker b("redis", config(1, 1000ms, 1, 1), clock.fn());
    b.export_metrics(registry);

    ASSERT_TRUE(b.try_acquire());
    b.on_success();
    ASSERT_TRUE(b.try_acquire());
    b.on_failure();
    EXPECT_FALSE(b.try_acquire());
    EXPECT_FALSE(b.try_acquire());

    auto calls = [&](const char* outcome) {
        return registry.counter("circuit.breaker.calls", "", {{"name", "redis"}, {"outcome", outcome}})
            .value();
    };
    EXPECT_EQ(calls("success"), 1.0);
    EXPECT_EQ(calls("failure"), 1.0);
    EXPECT_EQ(calls("rejected"), 2.0);

    const std::string text = registry.render_prometheus();
    EXPECT_NE(text.find("circuit_breaker_state{name=\"redis\",state=\"open\"} 1"), std::string::npos) << text;
    EXPECT_NE(text.find("circuit_breaker_state{name=\"redis\",state=\"closed\"} 0"), std::string::npos)
        << text;
}

TEST(CircuitBreaker, ConcurrentHalfOpenNeverAdmitsMoreThanMax) {
    FakeClock clock;
    CircuitBreaker b("redis", config(1, 0ms, 3, 1000), clock.fn());
    fail_n(b, 1);
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                if (b.try_acquire()) ++admitted;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(admitted.load(), 3);
    EXPECT_EQ(b.state(), State::HalfOpen);
}

}  // namespace
}  // namespace ec::ops
