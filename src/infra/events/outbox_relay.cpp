#include "infra/events/outbox_relay.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "app/errors.hpp"
#include "domain/local_time.hpp"
#include "infra/events/wakeable_loop.hpp"
#include "ops/metrics.hpp"

namespace ec::infra::events {

namespace asio = boost::asio;
namespace bj = boost::json;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

domain::OrderCompleted parse_order_completed(std::int64_t event_id, std::string_view payload) {
    const auto v = bj::parse(payload).as_object();
    domain::OrderCompleted e;
    e.event_id = event_id;
    e.order_id = v.at("orderId").to_number<std::int64_t>();
    e.user_id = v.at("userId").to_number<std::int64_t>();
    e.total_amount = v.at("totalAmount").to_number<std::int64_t>();
    e.paid_at_us = v.at("paidAtUs").to_number<std::int64_t>();
    for (const auto& item : v.at("items").as_array()) {
        const auto& line = item.as_object();
        e.items.push_back(
            {line.at("productId").to_number<std::int64_t>(), line.at("quantity").to_number<std::int64_t>()});
    }
    return e;
}

namespace {

// Commit-to-visible: 1 ms .. 10 s.
const std::vector<double> kLagBuckets{0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05,
                                      0.06,  0.075,  0.1,   0.15, 0.25,  0.5,  1.0,   2.5,  5.0,  10.0};

}  // namespace

struct OutboxRelay::State : std::enable_shared_from_this<State> {
    State(asio::io_context& ioc, app::OutboxRepository& o, app::RankingStore& r, ops::MetricsRegistry& m,
          OutboxRelaySettings s, RankingChanged changed)
        : loop(ioc),
          outbox(o),
          ranking(r),
          settings(s),
          on_changed(std::move(changed)),
          published(m.counter("outbox_events_published_total", "Outbox events published to Redis")),
          duplicates(
              m.counter("outbox_events_duplicate_total",
                        "Outbox events found already applied (a retry after a crash or a lost reply)")),
          failed(m.counter("outbox_events_failed_total", "Failed attempts at publishing an outbox event")),
          parked(m.counter("outbox_events_parked_total", "Outbox events parked after too many failures")),
          backlog(m.gauge("outbox_backlog", "Outbox events waiting to be published (not parked)")),
          oldest_age(m.gauge("outbox_oldest_age_seconds", "Age of the oldest unpublished outbox event")),
          parked_now(m.gauge("outbox_parked", "Outbox events parked, waiting for an operator")),
          lag(m.timer("outbox_visible_lag_seconds",
                      "From the payment's commit (paid_at) to its units being visible in the ranking", {},
                      kLagBuckets)) {}

    awaitable<void> run();
    awaitable<app::DrainResult> round();
    awaitable<std::vector<app::OutboxFailure>> publish(const std::vector<app::OutboxEvent>& events);
    awaitable<void> publish_one(const app::OutboxEvent& event, std::vector<app::OutboxFailure>& failures,
                                std::exception_ptr& outage);
    awaitable<void> refresh_stats();

    WakeableLoop loop;
    app::OutboxRepository& outbox;
    app::RankingStore& ranking;
    OutboxRelaySettings settings;
    RankingChanged on_changed;
    bool changed_in_round = false;
    Clock::time_point stats_at{};

    ops::Counter& published;
    ops::Counter& duplicates;
    ops::Counter& failed;
    ops::Counter& parked;
    ops::Gauge& backlog;
    ops::Gauge& oldest_age;
    ops::Gauge& parked_now;
    ops::Timer& lag;
};

OutboxRelay::OutboxRelay(asio::io_context& ioc, app::OutboxRepository& outbox, app::RankingStore& ranking,
                         ops::MetricsRegistry& metrics, OutboxRelaySettings settings,
                         RankingChanged on_changed)
    : state_(std::make_shared<State>(ioc, outbox, ranking, metrics, settings, std::move(on_changed))) {}

OutboxRelay::~OutboxRelay() {
    stop();
}

void OutboxRelay::start() {
    asio::co_spawn(
        state_->loop.strand(), [state = state_]() { return state->run(); }, asio::detached);
}

void OutboxRelay::stop() {
    state_->loop.stop(state_);
}

void OutboxRelay::notify() noexcept {
    state_->loop.notify(state_);
}

awaitable<void> OutboxRelay::State::run() {
    auto self = shared_from_this();  // the state outlives the relay object while a round runs
    std::chrono::milliseconds backoff{0};
    while (!loop.stopped()) {
        loop.begin_round();
        std::size_t claimed = 0;
        bool outage = false;
        try {
            if (Clock::now() - stats_at >= std::chrono::seconds(1)) co_await refresh_stats();
            const auto result = co_await round();
            claimed = result.claimed;
            backoff = std::chrono::milliseconds{0};
        } catch (const app::DependencyUnavailable& e) {
            outage = true;
            backoff = WakeableLoop::next_backoff(backoff);
            spdlog::warn("outbox relay: {}; retrying in {} ms", e.what(), backoff.count());
        } catch (const std::exception& e) {
            outage = true;
            backoff = WakeableLoop::next_backoff(backoff);
            spdlog::error("outbox relay: round failed: {}; retrying in {} ms", e.what(), backoff.count());
        }
        if (loop.stopped()) break;
        if (outage) {
            co_await loop.sleep(backoff);  // wake-ups are ignored while backing off
            continue;
        }
        if (claimed == static_cast<std::size_t>(settings.batch_size)) continue;  // more are waiting
        co_await loop.idle(settings.poll_interval);
        if (loop.stopped()) break;
        if (settings.linger.count() > 0) co_await loop.sleep(settings.linger);
    }
    co_return;
}

awaitable<app::DrainResult> OutboxRelay::State::round() {
    auto result = co_await outbox.drain(
        settings.batch_size, [this](const std::vector<app::OutboxEvent>& events) { return publish(events); });
    published.increment(static_cast<double>(result.published));
    for (const auto id : result.parked) {
        parked.increment();
        spdlog::error(
            "outbox relay: event {} parked after repeated failures; see last_error in outbox_events and the "
            "runbook (docs/operations.md)",
            id);
    }
    co_return result;
}

awaitable<std::vector<app::OutboxFailure>> OutboxRelay::State::publish(
    const std::vector<app::OutboxEvent>& events) {
    // All events at once: the Redis client pipelines them, so a batch costs about one round trip.
    std::vector<app::OutboxFailure> failures;
    std::exception_ptr outage;
    std::size_t pending = events.size();
    asio::steady_timer done(loop.strand(), asio::steady_timer::time_point::max());
    for (const auto& event : events) {
        asio::co_spawn(
            loop.strand(),
            [this, &event, &failures, &outage]() { return publish_one(event, failures, outage); },
            [&pending, &done](std::exception_ptr) {
                if (--pending == 0) done.cancel();
            });
    }
    if (pending > 0) {
        boost::system::error_code ec;
        co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (changed_in_round && on_changed) on_changed();
    changed_in_round = false;
    if (outage) std::rethrow_exception(outage);  // roll the round back; nothing is counted
    co_return failures;
}

awaitable<void> OutboxRelay::State::publish_one(const app::OutboxEvent& event,
                                                std::vector<app::OutboxFailure>& failures,
                                                std::exception_ptr& outage) {
    try {
        if (event.type != "OrderCompleted")
            throw std::runtime_error("unknown event type '" + event.type + "'");
        const auto order = parse_order_completed(event.id, event.payload);
        const bool applied = co_await ranking.apply(order);
        co_await ranking.append_completed(order);
        if (applied) {
            changed_in_round = true;
            lag.record(static_cast<double>(domain::epoch_us_now() - order.paid_at_us) / 1e6);
        } else {
            duplicates.increment();
        }
    } catch (const app::DependencyUnavailable&) {
        if (!outage) outage = std::current_exception();
    } catch (const std::exception& e) {
        failed.increment();
        spdlog::warn("outbox relay: event {} (attempt {}) failed: {}", event.id, event.attempts + 1,
                     e.what());
        failures.push_back(app::OutboxFailure{event.id, e.what()});
    }
    co_return;
}

awaitable<void> OutboxRelay::State::refresh_stats() {
    stats_at = Clock::now();
    const auto s = co_await outbox.stats();
    backlog.set(static_cast<double>(s.backlog));
    oldest_age.set(s.oldest_age_seconds);
    parked_now.set(static_cast<double>(s.parked));
    co_return;
}

}  // namespace ec::infra::events
