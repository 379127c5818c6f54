#pragma once
#include <memory>

#include "app/coupon_repository.hpp"

namespace ec::infra::pg {

class PgPool;

class PgCouponRepository final : public app::CouponRepository {
public:
    explicit PgCouponRepository(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}
    boost::asio::awaitable<app::IssueOutcome> issue(std::int64_t user_id, std::int64_t coupon_id) override;
    boost::asio::awaitable<std::optional<domain::Coupon>> find(std::int64_t coupon_id) override;
    boost::asio::awaitable<std::optional<std::vector<domain::UserCoupon>>> of_user(
        std::int64_t user_id, std::optional<domain::UserCouponStatus> status) override;
    boost::asio::awaitable<app::ReservedIssue> issue_reserved(std::int64_t user_id,
                                                              std::int64_t coupon_id) override;
    boost::asio::awaitable<void> flush_issues() override;
    boost::asio::awaitable<std::optional<app::GateSnapshot>> gate_snapshot(std::int64_t coupon_id) override;
    boost::asio::awaitable<bool> holds(std::int64_t user_id, std::int64_t coupon_id) override;

private:
    std::shared_ptr<PgPool> pool_;
};

}  // namespace ec::infra::pg
