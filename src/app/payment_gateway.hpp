#pragma once
// Port: the external payment gateway (PG). Called outside any database transaction.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

namespace ec::app {

struct GatewayResult {
    bool approved = false;
    std::string transaction_id;  // approved
    std::string message;         // declined: why, safe to show to the client
};

class PaymentGateway {
public:
    virtual ~PaymentGateway() = default;
    virtual boost::asio::awaitable<GatewayResult> charge(std::int64_t order_id, std::int64_t user_id,
                                                         std::int64_t amount,
                                                         const std::string& idempotency_key) = 0;
};

}  // namespace ec::app
