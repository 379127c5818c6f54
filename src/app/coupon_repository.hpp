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

// What the Redis gate of a coupon starts from (SPEC §7.5): consistent with each other.
struct GateSnapshot {
    std::int32_t total = 0;
    std::int32_t issued = 0;
    std::int64_t end_at_us = 0;
    std::vector<std::int64_t> holders;  // users holding the coupon; issued == holders.size()
};

// An issuer's attempt at turning one reservation into a user coupon.
enum class ReservedIssue { Issued, AlreadyIssued, SoldOut, CouponNotFound };

class CouponRepository {
public:
    virtual ~CouponRepository() = default;
    // Guarded increment of issued_quantity plus the unique user coupon, in one transaction.
    virtual boost::asio::awaitable<IssueOutcome> issue(std::int64_t user_id, std::int64_t coupon_id) = 0;
    virtual boost::asio::awaitable<std::optional<domain::Coupon>> find(std::int64_t coupon_id) = 0;
    // The user's coupons, newest first; nullopt when the user does not exist.
    virtual boost::asio::awaitable<std::optional<std::vector<domain::UserCoupon>>> of_user(
        std::int64_t user_id, std::optional<domain::UserCouponStatus> status) = 0;

    // One reserved request, one transaction: the same guarded increment and unique insert as
    // issue(), without the window check (the reservation was taken inside the window). The commit
    // does not wait for its WAL flush: the issue is durable only once a later flush_issues() has
    // returned, so nothing may be confirmed to anyone before that.
    virtual boost::asio::awaitable<ReservedIssue> issue_reserved(std::int64_t user_id,
                                                                 std::int64_t coupon_id) = 0;
    // Returns once every issue_reserved() that returned before this call is durable.
    virtual boost::asio::awaitable<void> flush_issues() = 0;
    // nullopt when the coupon does not exist.
    virtual boost::asio::awaitable<std::optional<GateSnapshot>> gate_snapshot(std::int64_t coupon_id) = 0;
    virtual boost::asio::awaitable<bool> holds(std::int64_t user_id, std::int64_t coupon_id) = 0;
};

}  // namespace ec::app
