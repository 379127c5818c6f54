#include "app/get_coupons.hpp"

#include "domain/error.hpp"

namespace ec::app {

using domain::DomainError;
using domain::ErrorCode;

boost::asio::awaitable<domain::Coupon> GetCoupons::one(std::int64_t coupon_id) {
    auto coupon = co_await coupons_.find(coupon_id);
    if (!coupon)
        throw DomainError(ErrorCode::InvalidCoupon,
                          "Coupon not found. couponId: " + std::to_string(coupon_id));
    co_return std::move(*coupon);
}

boost::asio::awaitable<std::vector<domain::UserCoupon>> GetCoupons::of_user(std::int64_t user_id,
                                                                            const std::string& status) {
    std::optional<domain::UserCouponStatus> filter;
    if (!status.empty()) filter = domain::parse_user_coupon_status(status);
    auto coupons = co_await coupons_.of_user(user_id, filter);
    if (!coupons)
        throw DomainError(ErrorCode::UserNotFound, "User not found. userId: " + std::to_string(user_id));
    co_return std::move(*coupons);
}

}  // namespace ec::app
