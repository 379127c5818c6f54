#pragma once
// Port: coupons and user coupons. Implemented by infra/postgres/pg_coupon_repository.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <vector>

#include "domain/coupon.hpp"

namespace ec::app {

struct IssueOutcome {
    enum class Kind { Issued, UserNotFound, CouponNotFound, NotInWindow, AlreadyIssued, SoldOut };
    Kind kind = Kind::Issued;
    domain::IssuedCoupon issued;  // Issued
};

class CouponRepository {
public:
    virtual ~CouponRepository() = default;
    // Guarded increment of issued_quantity plus the unique user coupon, in one transaction.
    virtual boost::asio::awaitable<IssueOutcome> issue(std::int64_t user_id, std::int64_t coupon_id) = 0;
    virtual boost::asio::awaitable<std::optional<domain::Coupon>> find(std::int64_t coupon_id) = 0;
    // The user's coupons, newest first; nullopt when the user does not exist.
    virtual boost::asio::awaitable<std::optional<std::vector<domain::UserCoupon>>> of_user(
        std::int64_t user_id, std::optional<domain::UserCouponStatus> status) = 0;
};

}  // namespace ec::app
