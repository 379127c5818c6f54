#pragma once
// Closed / open / half-open circuit breaker (resilience4j semantics, count based). Every Redis
// call goes through one: when open, callers fail fast instead of waiting for a timeout.
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "ops/config.hpp"

namespace ec::ops {

class MetricsRegistry;
class Counter;

class CircuitBreaker {
public:
    enum class State { Closed, Open, HalfOpen };
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    CircuitBreaker(std::string name, BreakerConfig config, Clock clock = std::chrono::steady_clock::now);

    // True when a call may proceed. In Open it turns HalfOpen once wait_in_open elapsed and then
    // admits at most half_open_max_calls trial calls.
    bool try_acquire();
    void on_success();
    void on_failure();

    State state() const;
    const std::string& name() const { return name_; }
    // Registers circuit_breaker_state{name,state} (1 for the current state, else 0) and
    // circuit_breaker_calls_total{name,outcome=success|failure|rejected}.
    void export_metrics(MetricsRegistry& registry);

private:
    std::string name_;
    BreakerConfig config_;
    Clock clock_;
    // implementation-defined members follow (mutex-protected)
    mutable std::mutex mutex_;
    State state_ = State::Closed;
    int consecutive_failures_ = 0;
    int half_open_in_flight_ = 0;
    int half_open_successes_ = 0;
    std::chrono::steady_clock::time_point opened_at_{};
    Counter* success_ = nullptr;
    Counter* failure_ = nullptr;
    Counter* rejected_ = nullptr;
};

std::string_view to_string(CircuitBreaker::State s);

}  // namespace ec::ops
