#include "infra/payment/mock_payment_gateway.hpp"

#include <algorithm>
#include <cctype>
#include <random>

namespace ec::infra::payment {

boost::asio::awaitable<app::GatewayResult> MockPaymentGateway::charge(std::int64_t /*order_id*/,
                                                                      std::int64_t /*user_id*/,
                                                                      std::int64_t /*amount*/,
                                                                      const std::string& idempotency_key) {
    std::string upper = idempotency_key;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (upper.find("FAIL") != std::string::npos) {
        co_return app::GatewayResult{false, {}, "insufficient funds (mock)"};
    }
    thread_local std::mt19937 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string tx = "MOCK_TX_";
    for (int i = 0; i < 8; ++i) tx += kHex[rng() % 16];
    co_return app::GatewayResult{true, std::move(tx), {}};
}

}  // namespace ec::infra::payment
