#include "app/get_reservation_status.hpp"

#include "app/errors.hpp"
#include "domain/error.hpp"

namespace ec::app {

using domain::DomainError;
using domain::ErrorCode;
using domain::ReservationStatus;

boost::asio::awaitable<ReservationStatus> GetReservationStatus::execute(std::int64_t coupon_id,
                                                                        std::int64_t user_id) {
    const bool user_exists = co_await users_.exists(user_id);
    if (!user_exists) {
        throw DomainError(ErrorCode::UserNotFound, "User not found. userId: " + std::to_string(user_id));
    }
    const auto coupon = co_await catalog_.find(coupon_id);
    if (!coupon) {
        throw DomainError(ErrorCode::InvalidCoupon,
                          "Coupon not found. couponId: " + std::to_string(coupon_id));
    }
    std::optional<ReservationStatus> in_gate;
    bool gate_down = false;
    try {
        in_gate = co_await gate_.status(coupon_id, user_id);
    } catch (const DependencyUnavailable&) {
        gate_down = true;
    }
    if (in_gate) co_return *in_gate;
    const bool holds = co_await coupons_.holds(user_id, coupon_id);
    if (holds) co_return ReservationStatus::Issued;
    if (gate_down) {
        throw DependencyUnavailable("Redis is unavailable: the reservation state of userId " +
                                    std::to_string(user_id) + " cannot be read");
    }
    co_return ReservationStatus::None;
}

}  // namespace ec::app
