#include "app/issue_coupon.hpp"

#include "domain/error.hpp"
#include "ops/metrics.hpp"

namespace ec::app {

using domain::DomainError;
using domain::ErrorCode;

IssueCoupon::IssueCoupon(CouponRepository& coupons, ops::MetricsRegistry& metrics)
    : coupons_(coupons),
      issued_(metrics.counter("coupon.issue", "Synchronous coupon issues", {{"result", "success"}})),
      refused_(metrics.counter("coupon.issue", "Synchronous coupon issues", {{"result", "failure"}})) {}

boost::asio::awaitable<domain::IssuedCoupon> IssueCoupon::execute(std::int64_t coupon_id,
                                                                  std::int64_t user_id) {
    const auto outcome = co_await coupons_.issue(user_id, coupon_id);
    const auto ids = "userId: " + std::to_string(user_id) + ", couponId: " + std::to_string(coupon_id);
    if (outcome.kind != IssueOutcome::Kind::Issued) refused_.increment();
    switch (outcome.kind) {
        case IssueOutcome::Kind::Issued:
            issued_.increment();
            co_return outcome.issued;
        case IssueOutcome::Kind::UserNotFound:
            throw DomainError(ErrorCode::UserNotFound, "User not found. userId: " + std::to_string(user_id));
        case IssueOutcome::Kind::CouponNotFound:
            throw DomainError(ErrorCode::InvalidCoupon,
                              "Coupon not found. couponId: " + std::to_string(coupon_id));
        case IssueOutcome::Kind::NotInWindow:
            throw DomainError(ErrorCode::CouponExpired,
                              "Coupon is expired or not yet started. couponId: " + std::to_string(coupon_id));
        case IssueOutcome::Kind::AlreadyIssued:
            throw DomainError(ErrorCode::CouponAlreadyIssued, "Coupon already issued. " + ids);
        case IssueOutcome::Kind::SoldOut:
            throw DomainError(ErrorCode::CouponSoldOut,
                              "Coupon sold out. couponId: " + std::to_string(coupon_id));
    }
    throw DomainError(ErrorCode::Internal, "unexpected coupon issue outcome");
}

}  // namespace ec::app
