#pragma once
// The issuer of FCFS reservations (SPEC §7.3-7.4), one per instance, all in one Redis consumer
// group so every request is worked on by one of them at a time.
//
// - Woken in-process by this instance's reservations (app::IssueRequestSignal), and every
//   `idle_wait` for requests queued by other instances.
// - Per coupon stream: reads new requests in batches; each request is one database transaction
//   (guarded increment + unique insert), then settled in Redis (state ISSUED, XACK) by one script.
// - Sold out in the database (the synchronous path took the last units): cancelled, no restock,
//   status FAILED.
// - Database or Redis unreachable: nothing is counted against the request; it stays pending and
//   this issuer backs off, then retries its own pending requests before reading new ones.
// - A request the database keeps refusing (an error, not an outage) is retried; after
//   `max_retries` failed attempts it is compensated (restock, status FAILED) and dead-lettered.
// - Requests pending for `claim_idle` in any consumer (a crashed instance) are claimed (XAUTOCLAIM).
// Settling is idempotent (the XACK decides), and so is the database step (unique insert), so a
// request processed twice after a reclaim race issues one coupon.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "app/coupon_gate.hpp"
#include "app/coupon_repository.hpp"
#include "infra/redis/redis_coupon_gate.hpp"

namespace ec::ops {
class MetricsRegistry;
}

namespace ec::infra::events {

struct CouponIssuerSettings {
    std::string consumer;  // unique per process
    int batch_size = 100;
    int max_retries = 5;
    int concurrency = 4;  // database transactions in flight
    std::chrono::milliseconds claim_idle{5'000};
    std::chrono::milliseconds idle_wait{1'000};
};

// hostname-pid: unique per process, so a restarted instance never mistakes a dead one's pending
// requests for its own (it claims them after claim_idle instead).
std::string default_consumer_name();

class CouponIssuer final : public app::IssueRequestSignal {
public:
    CouponIssuer(boost::asio::io_context& ioc, redis::RedisCouponGate& gate, app::CouponRepository& coupons,
                 ops::MetricsRegistry& metrics, CouponIssuerSettings settings);
    ~CouponIssuer() override;
    CouponIssuer(const CouponIssuer&) = delete;
    CouponIssuer& operator=(const CouponIssuer&) = delete;

    void start();
    // Stops after the current round; unsettled requests stay pending for the next issuer.
    void stop();
    void notify() noexcept override;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace ec::infra::events
