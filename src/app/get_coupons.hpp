#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/coupon_repository.hpp"

namespace ec::app {

// GET /api/coupons/{id} and GET /api/users/{id}/coupons?status=.
class GetCoupons {
public:
    explicit GetCoupons(CouponRepository& coupons) : coupons_(coupons) {}
    // The coupon or DomainError C002.
    boost::asio::awaitable<domain::Coupon> one(std::int64_t coupon_id);
    // `status` empty = all; unknown -> COMMON002; unknown user -> U001.
    boost::asio::awaitable<std::vector<domain::UserCoupon>> of_user(std::int64_t user_id,
                                                                    const std::string& status);

private:
    CouponRepository& coupons_;
};

}  // namespace ec::app
