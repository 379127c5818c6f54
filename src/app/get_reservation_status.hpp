#pragma once
#include <boost/asio/awaitable.hpp>

#include "app/coupon_catalog.hpp"
#include "app/coupon_gate.hpp"
#include "app/user_directory.hpp"

namespace ec::app {

// GET /api/coupons/{id}/reservations/{userId}: NONE | RESERVED | ISSUED | FAILED. The gate knows
// reservations in flight; the database is the truth for ISSUED (also when Redis lost its data or
// the gate's keys expired after the coupon ended). Redis down: ISSUED from the database, otherwise
// 503 (the reservation may be in flight; "NONE" would be a guess).
class GetReservationStatus {
public:
    GetReservationStatus(UserDirectory& users, CouponCatalog& catalog, CouponRepository& coupons,
                         CouponGate& gate)
        : users_(users), catalog_(catalog), coupons_(coupons), gate_(gate) {}
    boost::asio::awaitable<domain::ReservationStatus> execute(std::int64_t coupon_id, std::int64_t user_id);

private:
    UserDirectory& users_;
    CouponCatalog& catalog_;
    CouponRepository& coupons_;
    CouponGate& gate_;
};

}  // namespace ec::app
