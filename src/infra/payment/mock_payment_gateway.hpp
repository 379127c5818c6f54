#pragma once
#include "app/payment_gateway.hpp"

namespace ec::infra::payment {

// The original's MockPGServiceImpl: declines when the idempotency key contains "FAIL" (any case),
// otherwise approves at once with a transaction id "MOCK_TX_" + 8 hex digits.
class MockPaymentGateway final : public app::PaymentGateway {
public:
    boost::asio::awaitable<app::GatewayResult> charge(std::int64_t order_id, std::int64_t user_id,
                                                      std::int64_t amount,
                                                      const std::string& idempotency_key) override;
};

}  // namespace ec::infra::payment
