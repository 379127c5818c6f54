#pragma once
// The outbox relay (SPEC §6): publishes the OrderCompleted events the payment transaction writes to
// the live ranking and the order-completed stream, each exactly once in effect.
//
// - Woken in-process by the payment that committed an event (app::OutboxSignal), and by a poll every
//   `poll_interval` for events nobody signalled (another instance crashed, Redis was down).
// - One round = one database transaction: claim due events (SKIP LOCKED, so instances share the work),
//   apply each to Redis (scripts that remember the event id, so a retry after a crash counts nothing
//   twice), mark them published, commit. A crash anywhere leaves the events due; the scripts make the
//   re-run harmless.
// - Redis unavailable: the round is rolled back (no attempt is counted: an outage is not the event's
//   fault) and the relay backs off. An event that fails by itself (bad payload, error reply) is
//   retried with backoff and parked after outbox.max-attempts, with a log line and a metric.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "app/outbox_repository.hpp"
#include "app/outbox_signal.hpp"
#include "app/ranking_store.hpp"

namespace ec::ops {
class MetricsRegistry;
}

namespace ec::infra::events {

struct OutboxRelaySettings {
    std::chrono::milliseconds poll_interval{1'000};
    std::chrono::milliseconds linger{10};  // after a wake-up, wait this long so one round takes more events
    int batch_size = 200;
};

// Called after a round changed the ranking in Redis (before its commit), e.g. to drop read caches.
using RankingChanged = std::function<void()>;

// The payload of an OrderCompleted outbox row (written by payment_complete() in V002); throws on
// anything else.
domain::OrderCompleted parse_order_completed(std::int64_t event_id, std::string_view payload);

class OutboxRelay final : public app::OutboxSignal {
public:
    OutboxRelay(boost::asio::io_context& ioc, app::OutboxRepository& outbox, app::RankingStore& ranking,
                ops::MetricsRegistry& metrics, OutboxRelaySettings settings, RankingChanged on_changed = {});
    ~OutboxRelay() override;
    OutboxRelay(const OutboxRelay&) = delete;
    OutboxRelay& operator=(const OutboxRelay&) = delete;

    void start();
    // Stops after the current round (whose transaction is rolled back if it cannot finish).
    void stop();
    void notify() noexcept override;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace ec::infra::events
