#pragma once
#include <memory>

#include "app/order_repository.hpp"

namespace ec::infra::pg {

class PgPool;
class WalFlushBarrier;

class PgOrderRepository final : public app::OrderRepository {
public:
    // With a `barrier`, an order is created without a flush wait of its own and answered after the
    // barrier's shared flush; without one, its commit waits for its own flush.
    explicit PgOrderRepository(std::shared_ptr<PgPool> pool,
                               std::shared_ptr<WalFlushBarrier> barrier = nullptr)
        : pool_(std::move(pool)), barrier_(std::move(barrier)) {}
    boost::asio::awaitable<app::CreateOrderOutcome> create(std::int64_t user_id, const std::string& key,
                                                           const std::string& fingerprint,
                                                           const std::vector<domain::OrderLineRequest>& lines,
                                                           std::optional<std::int64_t> coupon_id) override;
    boost::asio::awaitable<std::optional<domain::Order>> find(std::int64_t order_id) override;
    boost::asio::awaitable<std::optional<std::vector<domain::Order>>> of_user(
        std::int64_t user_id, std::optional<domain::OrderStatus> status) override;

private:
    std::shared_ptr<PgPool> pool_;
    std::shared_ptr<WalFlushBarrier> barrier_;
};

}  // namespace ec::infra::pg
