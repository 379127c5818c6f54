#include "infra/events/coupon_issuer.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <optional>
#include <set>

#include "app/errors.hpp"
#include "domain/local_time.hpp"
#include "infra/events/wakeable_loop.hpp"
#include "ops/metrics.hpp"

namespace ec::infra::events {

namespace asio = boost::asio;
using asio::awaitable;
using redis::IssueRequest;
using redis::Settlement;
using Clock = std::chrono::steady_clock;

std::string default_consumer_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return std::string(host[0] != '\0' ? host : "host") + "-" + std::to_string(::getpid());
}

namespace {

// Reservation to user coupon: 1 ms .. 30 s.
const std::vector<double> kLagBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};

// After a wake-up, wait this long so one round takes more requests.
constexpr std::chrono::milliseconds kLinger{5};

}  // namespace

struct CouponIssuer::State : std::enable_shared_from_this<State> {
    State(asio::io_context& ioc, redis::RedisCouponGate& g, app::CouponRepository& c, ops::MetricsRegistry& m,
          CouponIssuerSettings s)
        : loop(ioc),
          stats_timer(loop.strand()),
          gate(g),
          coupons(c),
          settings(std::move(s)),
          issued(outcome(m, "issued")),
          already_issued(outcome(m, "already_issued")),
          sold_out(outcome(m, "sold_out")),
          failed(outcome(m, "failed_attempt")),
          dead_lettered(outcome(m, "dead_letter")),
          length(m.gauge("coupon.issue.requests.length",
                         "Issue requests in the coupon streams not yet settled (all coupons)")),
          pending(m.gauge("coupon.issue.requests.pending",
                          "Issue requests delivered to an issuer and not yet settled (all coupons)")),
          oldest_pending_age(m.gauge("coupon.issue.requests.oldest.pending.age.seconds",
                                     "Age of the oldest pending issue request")),
          dead_letters(m.gauge("coupon.dead.letters", "Entries in the coupons' dead-letter streams")),
          lag(m.timer("coupon.issue.lag", "From the reservation to its user coupon being issued and settled",
                      {}, kLagBuckets)) {}

    static ops::Counter& outcome(ops::MetricsRegistry& m, const char* result) {
        return m.counter("coupon.issuer.requests", "Issue requests processed by the issuers, by outcome",
                         {{"result", result}});
    }

    awaitable<void> run();
    awaitable<std::size_t> round();
    awaitable<void> process(std::vector<IssueRequest> batch);
    awaitable<void> for_each_request(std::size_t n, std::function<awaitable<void>(std::size_t)> step);
    awaitable<void> issue_one(const IssueRequest& r, std::optional<app::ReservedIssue>& result);
    awaitable<void> settle_one(const IssueRequest& r, app::ReservedIssue result);
    awaitable<void> fail_one(const IssueRequest& r, const std::string& why);
    awaitable<void> refresh_stats();
    awaitable<void> stats_loop();

    WakeableLoop loop;
    asio::steady_timer stats_timer;
    redis::RedisCouponGate& gate;
    app::CouponRepository& coupons;
    CouponIssuerSettings settings;
    bool retry_own = true;      // at start: nothing of ours can be pending, but it costs one read
    std::exception_ptr outage;  // set by a request of the current batch
    Clock::time_point claimed_at{};
    bool ever_ran = false;  // a round completed at least once

    ops::Counter& issued;
    ops::Counter& already_issued;
    ops::Counter& sold_out;
    ops::Counter& failed;
    ops::Counter& dead_lettered;
    ops::Gauge& length;
    ops::Gauge& pending;
    ops::Gauge& oldest_pending_age;
    ops::Gauge& dead_letters;
    ops::Timer& lag;
};

CouponIssuer::CouponIssuer(asio::io_context& ioc, redis::RedisCouponGate& gate,
                           app::CouponRepository& coupons, ops::MetricsRegistry& metrics,
                           CouponIssuerSettings settings)
    : state_(std::make_shared<State>(ioc, gate, coupons, metrics, std::move(settings))) {}

CouponIssuer::~CouponIssuer() {
    stop();
}

void CouponIssuer::start() {
    spdlog::info("coupon issuer: consumer {} in group {}", state_->settings.consumer, redis::kIssuerGroup);
    asio::co_spawn(
        state_->loop.strand(), [state = state_]() { return state->run(); }, asio::detached);
    asio::co_spawn(
        state_->loop.strand(), [state = state_]() { return state->stats_loop(); }, asio::detached);
}

void CouponIssuer::stop() {
    if (state_->loop.stopped()) return;
    state_->loop.stop(state_);
    asio::post(state_->loop.strand(), [state = state_] { state->stats_timer.cancel(); });
}

void CouponIssuer::notify() noexcept {
    state_->loop.notify(state_);
}

awaitable<void> CouponIssuer::State::run() {
    auto self = shared_from_this();  // the state outlives the issuer object while a round runs
    std::chrono::milliseconds backoff{0};
    while (!loop.stopped()) {
        loop.begin_round();
        std::size_t work = 0;
        bool down = false;
        try {
            work = co_await round();
            backoff = std::chrono::milliseconds{0};
            ever_ran = true;
        } catch (const app::DependencyUnavailable& e) {
            down = true;
            backoff = WakeableLoop::next_backoff(backoff);
            if (ever_ran) {
                spdlog::warn("coupon issuer: {}; retrying in {} ms", e.what(), backoff.count());
            } else {
                spdlog::info("coupon issuer: waiting for its dependencies ({})", e.what());  // start-up
            }
        } catch (const std::exception& e) {
            down = true;
            backoff = WakeableLoop::next_backoff(backoff);
            spdlog::error("coupon issuer: round failed: {}; retrying in {} ms", e.what(), backoff.count());
        }
        if (loop.stopped()) break;
        if (down) {
            retry_own = true;              // what we were handed stays pending with us: retry it first
            co_await loop.sleep(backoff);  // wake-ups are ignored while backing off
            continue;
        }
        if (work >= static_cast<std::size_t>(settings.batch_size)) continue;  // more are waiting
        co_await loop.idle(settings.idle_wait);
        if (loop.stopped()) break;
        co_await loop.sleep(kLinger);
    }
    co_return;
}

awaitable<std::size_t> CouponIssuer::State::round() {
    const auto active = co_await gate.active_coupons();
    const bool claim_due = Clock::now() - claimed_at >= settings.claim_idle / 2;
    const bool own = retry_own;
    retry_own = false;
    std::size_t most = 0;
    for (const auto coupon : active) {
        std::vector<IssueRequest> batch;
        bool gone = false;
        if (own) batch = co_await gate.read(coupon, settings.consumer, true, settings.batch_size, gone);
        if (claim_due && !gone) {
            auto claimed =
                co_await gate.claim_idle(coupon, settings.consumer, settings.claim_idle, settings.batch_size);
            if (!claimed.empty()) {
                spdlog::info("coupon issuer: claimed {} idle request(s) of coupon {}", claimed.size(),
                             coupon);
            }
            for (auto& r : claimed) batch.push_back(std::move(r));
        }
        const auto room = settings.batch_size - static_cast<int>(batch.size());
        if (room > 0 && !gone) {
            auto fresh = co_await gate.read(coupon, settings.consumer, false, room, gone);
            for (auto& r : fresh) batch.push_back(std::move(r));
        }
        if (gone) {
            // The stream expired with its coupon or Redis lost it (the next reservation
            // re-initialises the gate and lists the coupon again); or only the group went missing,
            // which is repaired so queued requests are read on the next round.
            const bool kept = co_await gate.repair_or_forget(coupon);
            spdlog::warn("coupon issuer: coupon {}: stream or group missing; {}", coupon,
                         kept ? "group recreated" : "no gate either, coupon dropped from the issue list");
            continue;
        }
        // Own pending and claimed requests can overlap: process each entry once.
        std::set<std::string> seen;
        std::erase_if(batch, [&seen](const IssueRequest& r) { return !seen.insert(r.entry_id).second; });
        most = std::max(most, batch.size());
        if (!batch.empty()) co_await process(std::move(batch));
    }
    if (claim_due) claimed_at = Clock::now();
    co_return most;
}

awaitable<void> CouponIssuer::State::process(std::vector<IssueRequest> batch) {
    // Three steps: issue every request of the batch (each its own transaction, committed without
    // waiting for its flush), make them all durable with one flush, then confirm them in Redis.
    // A request is never confirmed (nor acknowledged from its stream) before its issue is durable.
    outage = nullptr;
    std::vector<std::optional<app::ReservedIssue>> results(batch.size());
    co_await for_each_request(batch.size(), [&](std::size_t i) { return issue_one(batch[i], results[i]); });
    if (outage) std::rethrow_exception(outage);  // back off; the rest stays pending with us
    if (std::any_of(results.begin(), results.end(), [](const auto& r) { return r.has_value(); })) {
        co_await coupons.flush_issues();  // DependencyUnavailable: all stay pending, issued again later
    }
    co_await for_each_request(batch.size(), [&](std::size_t i) -> awaitable<void> {
        if (results[i]) co_await settle_one(batch[i], *results[i]);
        co_return;
    });
    if (outage) std::rethrow_exception(outage);
    co_return;
}

awaitable<void> CouponIssuer::State::for_each_request(std::size_t n,
                                                      std::function<awaitable<void>(std::size_t)> step) {
    // `concurrency` workers on this strand take the requests in order; their database transactions
    // or Redis calls overlap.
    std::size_t next = 0;
    const int workers = std::min<int>(settings.concurrency, static_cast<int>(n));
    int running = workers;
    asio::steady_timer done(loop.strand(), asio::steady_timer::time_point::max());
    for (int w = 0; w < workers; ++w) {
        asio::co_spawn(
            loop.strand(),
            [this, n, &next, &step]() -> awaitable<void> {
                while (next < n && !outage && !loop.stopped()) co_await step(next++);
                co_return;
            },
            [&running, &done](std::exception_ptr) {
                if (--running == 0) done.cancel();
            });
    }
    if (running > 0) {
        boost::system::error_code ec;
        co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return;
}

awaitable<void> CouponIssuer::State::issue_one(const IssueRequest& r,
                                               std::optional<app::ReservedIssue>& result) {
    std::string failure;
    try {
        const auto outcome = co_await coupons.issue_reserved(r.user_id, r.coupon_id);
        if (outcome == app::ReservedIssue::CouponNotFound)
            throw std::runtime_error("coupon " + std::to_string(r.coupon_id) + " no longer exists");
        result = outcome;
        co_return;
    } catch (const app::DependencyUnavailable&) {
        if (!outage) outage = std::current_exception();
        co_return;
    } catch (const std::exception& e) {
        failure = e.what();
    }
    co_await fail_one(r, failure);  // the transaction rolled back: nothing to flush
    co_return;
}

awaitable<void> CouponIssuer::State::settle_one(const IssueRequest& r, app::ReservedIssue result) {
    try {
        const bool settled = co_await gate.settle(
            r, result == app::ReservedIssue::SoldOut ? Settlement::Cancelled : Settlement::Issued, "");
        if (!settled) co_return;
        if (result == app::ReservedIssue::Issued) {
            issued.increment();
            lag.record(static_cast<double>(
                           std::max<std::int64_t>(0, domain::epoch_us_now() / 1000 - r.requested_at_ms)) /
                       1e3);
        } else if (result == app::ReservedIssue::AlreadyIssued) {
            already_issued.increment();
        } else {
            sold_out.increment();
            spdlog::info(
                "coupon issuer: coupon {} sold out in the database; reservation of user {} cancelled",
                r.coupon_id, r.user_id);
        }
    } catch (const app::DependencyUnavailable&) {
        if (!outage) outage = std::current_exception();
    } catch (const std::exception& e) {
        // The issue is durable: never compensate it. Left pending, it is issued again (ALREADY_ISSUED)
        // and confirmed by a later round.
        retry_own = true;
        spdlog::warn("coupon issuer: request {} (coupon {}, user {}) issued but not confirmed: {}",
                     r.entry_id, r.coupon_id, r.user_id, e.what());
    }
    co_return;
}

awaitable<void> CouponIssuer::State::fail_one(const IssueRequest& r, const std::string& why) {
    failed.increment();
    retry_own = true;
    try {
        const auto attempts = co_await gate.record_failure(r);
        if (attempts < std::max(1, settings.max_retries)) {
            spdlog::warn("coupon issuer: request {} (coupon {}, user {}) failed, attempt {}: {}", r.entry_id,
                         r.coupon_id, r.user_id, attempts, why);
            co_return;
        }
        const bool settled = co_await gate.settle(r, Settlement::Compensated, why);
        if (settled) {
            dead_lettered.increment();
            spdlog::error(
                "coupon issuer: request {} (coupon {}, user {}) gave up after {} attempts: {}; unit "
                "restocked, "
                "status FAILED, entry in {} (see docs/operations.md)",
                r.entry_id, r.coupon_id, r.user_id, attempts, why,
                redis::coupon_key(r.coupon_id, "dead-letters"));
        }
    } catch (const app::DependencyUnavailable&) {
        if (!outage) outage = std::current_exception();
    }
    co_return;
}

awaitable<void> CouponIssuer::State::stats_loop() {
    // Its own loop on the strand (it runs while a round waits on the database), so the gauges show
    // requests in flight too, not only what is left between rounds.
    auto self = shared_from_this();
    while (!loop.stopped()) {
        try {
            co_await refresh_stats();
        } catch (const std::exception& e) {
            spdlog::debug("coupon issuer: stats not refreshed: {}", e.what());
        }
        stats_timer.expires_after(std::chrono::seconds(1));
        boost::system::error_code ec;
        co_await stats_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return;
}

awaitable<void> CouponIssuer::State::refresh_stats() {
    const auto active = co_await gate.active_coupons();
    redis::IssueQueueStats total;
    std::int64_t oldest = 0;
    for (const auto coupon : active) {
        const auto s = co_await gate.stats(coupon);
        total.length += s.length;
        total.pending += s.pending;
        total.dead_letters += s.dead_letters;
        if (s.oldest_pending_ms > 0 && (oldest == 0 || s.oldest_pending_ms < oldest))
            oldest = s.oldest_pending_ms;
    }
    length.set(static_cast<double>(total.length));
    pending.set(static_cast<double>(total.pending));
    dead_letters.set(static_cast<double>(total.dead_letters));
    oldest_pending_age.set(
        oldest > 0
            ? static_cast<double>(std::max<std::int64_t>(0, domain::epoch_us_now() / 1000 - oldest)) / 1e3
            : 0.0);
    co_return;
}

}  // namespace ec::infra::events
