#pragma once
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/order_repository.hpp"

namespace ec::ops {
class MetricsRegistry;
class Counter;
}  // namespace ec::ops

namespace ec::app {

struct CreateOrderRequest {
    std::int64_t user_id = 0;
    std::vector<domain::OrderLineRequest> lines;
    std::optional<std::int64_t> coupon_id;
    std::string idempotency_key;
};

// POST /api/orders: a PENDING order with snapshotted prices, idempotent per (user, key).
class CreateOrder {
public:
    CreateOrder(OrderRepository& orders, ops::MetricsRegistry& metrics);
    boost::asio::awaitable<domain::Order> execute(CreateOrderRequest request);

private:
    boost::asio::awaitable<domain::Order> create(CreateOrderRequest& request);

    OrderRepository& orders_;
    ops::Counter& created_;
    ops::Counter& refused_;
};

}  // namespace ec::app
