#include "ops/circuit_breaker.hpp"

#include <array>
#include <utility>

#include "ops/metrics.hpp"

namespace ec::ops {

namespace {
constexpr std::array<CircuitBreaker::State, 3> kStates{
    CircuitBreaker::State::Closed, CircuitBreaker::State::Open, CircuitBreaker::State::HalfOpen};
}  // namespace

std::string_view to_string(CircuitBreaker::State s) {
    switch (s) {
        case CircuitBreaker::State::Closed:
            return "closed";
        case CircuitBreaker::State::Open:
            return "open";
        case CircuitBreaker::State::HalfOpen:
            return "half_open";
    }
    return "unknown";
}

CircuitBreaker::CircuitBreaker(std::string name, BreakerConfig config, Clock clock)
    : name_(std::move(name)), config_(config), clock_(std::move(clock)) {
    // Degenerate settings would make the breaker never close (0 trial calls) or flap on every
    // success; clamp them to the smallest meaningful values instead of failing at run time.
    if (config_.failure_threshold < 1) config_.failure_threshold = 1;
    if (config_.half_open_max_calls < 1) config_.half_open_max_calls = 1;
    if (config_.success_threshold < 1) config_.success_threshold = 1;
}

bool CircuitBreaker::try_acquire() {
    std::lock_guard lock(mutex_);
    if (state_ == State::Closed) return true;
    if (state_ == State::Open) {
        if (clock_() - opened_at_ < config_.wait_in_open) {
            if (rejected_ != nullptr) rejected_->increment();
            return false;
        }
        state_ = State::HalfOpen;
        half_open_in_flight_ = 0;
        half_open_successes_ = 0;
    }
    if (half_open_in_flight_ >= config_.half_open_max_calls) {
        if (rejected_ != nullptr) rejected_->increment();
        return false;
    }
    ++half_open_in_flight_;
    return true;
}

void CircuitBreaker::on_success() {
    std::lock_guard lock(mutex_);
    if (success_ != nullptr) success_->increment();
    switch (state_) {
        case State::Closed:
            consecutive_failures_ = 0;
            break;
        case State::HalfOpen:
            // try_acquire() hands out no token, so a call admitted while still Closed may report
            // here; never let such a straggler push the in-flight count negative.
            if (half_open_in_flight_ > 0) --half_open_in_flight_;
            if (++half_open_successes_ >= config_.success_threshold) {
                state_ = State::Closed;
                consecutive_failures_ = 0;
                half_open_in_flight_ = 0;
                half_open_successes_ = 0;
            }
            break;
        case State::Open:
            // A straggler admitted before the breaker opened: one late success is no evidence
            // that the dependency recovered, so the wait_in_open period stands.
            break;
    }
}

void CircuitBreaker::on_failure() {
    std::lock_guard lock(mutex_);
    if (failure_ != nullptr) failure_->increment();
    switch (state_) {
        case State::Closed:
            if (++consecutive_failures_ >= config_.failure_threshold) {
                state_ = State::Open;
                opened_at_ = clock_();
            }
            break;
        case State::HalfOpen:
            state_ = State::Open;
            opened_at_ = clock_();
            half_open_in_flight_ = 0;
            half_open_successes_ = 0;
            break;
        case State::Open:
            // Stragglers failing after the breaker opened must not extend the open period,
            // otherwise a burst of timeouts keeps pushing recovery further out.
            break;
    }
}

CircuitBreaker::State CircuitBreaker::state() const {
    std::lock_guard lock(mutex_);
    return state_;
}

void CircuitBreaker::export_metrics(MetricsRegistry& registry) {
    // The registry keeps the read callbacks for its lifetime: the breaker must outlive it (both
    // are application-lifetime objects).
    for (State s : kStates) {
        registry.gauge_fn("circuit.breaker.state", "Circuit breaker state (1 = current state)",
                          {{"name", name_}, {"state", std::string(to_string(s))}},
                          [this, s] { return state() == s ? 1.0 : 0.0; });
    }
    auto& success = registry.counter("circuit.breaker.calls", "Calls through the circuit breaker",
                                     {{"name", name_}, {"outcome", "success"}});
    auto& failure = registry.counter("circuit.breaker.calls", "Calls through the circuit breaker",
                                     {{"name", name_}, {"outcome", "failure"}});
    auto& rejected = registry.counter("circuit.breaker.calls", "Calls through the circuit breaker",
                                      {{"name", name_}, {"outcome", "rejected"}});
    std::lock_guard lock(mutex_);
    success_ = &success;
    failure_ = &failure;
    rejected_ = &rejected;
}

}  // namespace ec::ops
