#pragma once
#include <memory>

#include "app/coupon_repository.hpp"

namespace ec::infra::pg {

class PgPool;
class WalFlushBarrier;

class PgCouponRepository final : public app::CouponRepository {
public:
    // `flush` makes flush_issues() work: only the coupon issuer's repository calls it and needs one.
    explicit PgCouponRepository(std::shared_ptr<PgPool> pool,
                                std::shared_ptr<WalFlushBarrier> flush = nullptr)
        : pool_(std::move(pool)), flush_(std::move(flush)) {}
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
    std::shared_ptr<WalFlushBarrier> flush_;
};

}  // namespace ec::infra::pg
