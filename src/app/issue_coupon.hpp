#pragma once
#include <boost/asio/awaitable.hpp>

#include "app/coupon_repository.hpp"

namespace ec::ops {
class MetricsRegistry;
class Counter;
}  // namespace ec::ops

namespace ec::app {

// POST /api/coupons/{id}/issue: the synchronous, database-only issue (SPEC §7, last paragraph).
class IssueCoupon {
public:
    IssueCoupon(CouponRepository& coupons, ops::MetricsRegistry& metrics);
    boost::asio::awaitable<domain::IssuedCoupon> execute(std::int64_t coupon_id, std::int64_t user_id);

private:
    CouponRepository& coupons_;
    ops::Counter& issued_;
    ops::Counter& refused_;
};

}  // namespace ec::app
