#include "app/reserve_coupon.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/errors.hpp"
#include "domain/error.hpp"
#include "domain/local_time.hpp"
#include "ops/metrics.hpp"

namespace ec::app {

using domain::DomainError;
using domain::ErrorCode;

namespace {

ops::Counter& outcome_counter(ops::MetricsRegistry& metrics, const char* result) {
    return metrics.counter("coupon.reservation", "FCFS coupon reservations by result", {{"result", result}});
}

std::string ids(std::int64_t user_id, std::int64_t coupon_id) {
    return "userId: " + std::to_string(user_id) + ", couponId: " + std::to_string(coupon_id);
}

}  // namespace

ReserveCoupon::ReserveCoupon(Deps deps, ops::MetricsRegistry& metrics,
                             std::chrono::milliseconds keep_after_end)
    : deps_(deps),
      keep_after_end_(keep_after_end),
      reserved_(outcome_counter(metrics, "success")),
      sold_out_(outcome_counter(metrics, "sold_out")),
      duplicate_(outcome_counter(metrics, "duplicate")),
      rejected_(outcome_counter(metrics, "rejected")),
      unavailable_(outcome_counter(metrics, "unavailable")) {}

boost::asio::awaitable<ReservationReceipt> ReserveCoupon::execute(std::int64_t coupon_id,
                                                                  std::int64_t user_id) {
    try {
        co_return co_await reserve(coupon_id, user_id);
    } catch (const DomainError& e) {
        switch (e.code()) {
            case ErrorCode::CouponSoldOut:
                sold_out_.increment();
                break;
            case ErrorCode::CouponAlreadyIssued:
                duplicate_.increment();
                break;
            default:
                rejected_.increment();
        }
        throw;
    } catch (const DependencyUnavailable&) {
        unavailable_.increment();
        throw;
    }
}

boost::asio::awaitable<ReservationReceipt> ReserveCoupon::reserve(std::int64_t coupon_id,
                                                                  std::int64_t user_id) {
    const bool user_exists = co_await deps_.users.exists(user_id);
    if (!user_exists) {
        throw DomainError(ErrorCode::UserNotFound, "User not found. userId: " + std::to_string(user_id));
    }
    const auto coupon = co_await deps_.catalog.find(coupon_id);
    if (!coupon) {
        throw DomainError(ErrorCode::InvalidCoupon,
                          "Coupon not found. couponId: " + std::to_string(coupon_id));
    }
    const auto now = domain::epoch_us_now();
    if (!coupon->is_open_at(now)) {
        throw DomainError(ErrorCode::CouponExpired,
                          "Coupon is expired or not yet started. couponId: " + std::to_string(coupon_id));
    }
    auto r = co_await deps_.gate.reserve(coupon_id, user_id, now / 1000);
    if (r.kind == GateReservation::Kind::NotInitialised) {
        co_await initialise(coupon_id);
        r = co_await deps_.gate.reserve(coupon_id, user_id, now / 1000);
    }
    switch (r.kind) {
        case GateReservation::Kind::Reserved:
            deps_.issuer.notify();
            reserved_.increment();
            co_return ReservationReceipt{
                coupon_id, user_id, domain::reservation_sequence(coupon->total_quantity, r.remaining_after)};
        case GateReservation::Kind::AlreadyReserved:
            throw DomainError(ErrorCode::CouponAlreadyIssued,
                              "Coupon already reserved. " + ids(user_id, coupon_id));
        case GateReservation::Kind::AlreadyIssued:
            throw DomainError(ErrorCode::CouponAlreadyIssued,
                              "Coupon already issued. " + ids(user_id, coupon_id));
        case GateReservation::Kind::SoldOut:
            throw DomainError(ErrorCode::CouponSoldOut,
                              "Coupon sold out. couponId: " + std::to_string(coupon_id));
        case GateReservation::Kind::NotInitialised:
            break;
    }
    // Initialised a moment ago and gone again: Redis is losing its data (restarting, evicting).
    throw DependencyUnavailable("the coupon gate of coupon " + std::to_string(coupon_id) +
                                " did not keep its state in Redis");
}

boost::asio::awaitable<void> ReserveCoupon::initialise(std::int64_t coupon_id) {
    // One initialisation per coupon at a time in this instance: the first requests of a sale arrive
    // together, and each snapshot reads every holder of the coupon. The others wait for it.
    for (;;) {
        {
            const std::scoped_lock lock(mutex_);
            if (initialising_.insert(coupon_id).second) break;
        }
        boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
        pause.expires_after(std::chrono::milliseconds{2});
        co_await pause.async_wait(boost::asio::use_awaitable);
        const std::scoped_lock lock(mutex_);
        if (!initialising_.contains(coupon_id)) co_return;  // done by the other request
    }
    struct Done {
        ReserveCoupon& self;
        std::int64_t id;
        ~Done() {
            const std::scoped_lock lock(self.mutex_);
            self.initialising_.erase(id);
        }
    } done{*this, coupon_id};
    const auto snapshot = co_await deps_.coupons.gate_snapshot(coupon_id);
    if (!snapshot) {
        throw DomainError(ErrorCode::InvalidCoupon,
                          "Coupon not found. couponId: " + std::to_string(coupon_id));
    }
    const std::int64_t expire_at_ms = snapshot->end_at_us / 1000 + keep_after_end_.count();
    const bool now = co_await deps_.gate.initialise(coupon_id, *snapshot, expire_at_ms);
    if (now) {
        spdlog::info("coupon {}: reservation gate initialised from the database ({} of {} issued, {} left)",
                     coupon_id, snapshot->issued, snapshot->total, snapshot->total - snapshot->issued);
    }
    co_return;
}

}  // namespace ec::app
