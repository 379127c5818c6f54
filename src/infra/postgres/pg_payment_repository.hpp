#pragma once
#include <memory>

#include "app/payment_repository.hpp"

namespace ec::infra::pg {

class PgPool;
class WalFlushBarrier;

class PgPaymentRepository final : public app::PaymentRepository {
public:
    // With a `barrier`, a payment's completion commits without a flush wait of its own and is answered
    // after the barrier's shared flush; without one, its commit waits for its own flush.
    explicit PgPaymentRepository(std::shared_ptr<PgPool> pool,
                                 std::shared_ptr<WalFlushBarrier> barrier = nullptr)
        : pool_(std::move(pool)), barrier_(std::move(barrier)) {}
    boost::asio::awaitable<app::ReserveOutcome> reserve(std::int64_t order_id, std::int64_t user_id,
                                                        const std::string& key) override;
    boost::asio::awaitable<std::optional<domain::PaymentReceipt>> complete(
        std::int64_t order_id, std::int64_t user_id, const std::string& key,
        const app::ReserveOutcome& reserved, const std::string& transmission) override;
    boost::asio::awaitable<void> compensate(std::int64_t user_id, const std::string& key,
                                            const std::string& message) override;
    boost::asio::awaitable<std::vector<std::int64_t>> recover_stale(
        std::chrono::milliseconds older_than, int limit,
        std::optional<std::chrono::milliseconds> lookback) override;

private:
    std::shared_ptr<PgPool> pool_;
    std::shared_ptr<WalFlushBarrier> barrier_;
};

}  // namespace ec::infra::pg
