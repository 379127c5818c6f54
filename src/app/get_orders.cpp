#include "app/get_orders.hpp"

#include "domain/error.hpp"

namespace ec::app {

using domain::DomainError;
using domain::ErrorCode;

boost::asio::awaitable<std::vector<domain::Order>> GetOrders::of_user(std::int64_t user_id,
                                                                      const std::string& status) {
    std::optional<domain::OrderStatus> filter;
    if (!status.empty()) filter = domain::parse_order_status(status);
    auto orders = co_await orders_.of_user(user_id, filter);
    if (!orders)
        throw DomainError(ErrorCode::UserNotFound, "User not found. userId: " + std::to_string(user_id));
    co_return std::move(*orders);
}

boost::asio::awaitable<domain::Order> GetOrders::one(std::int64_t order_id) {
    auto order = co_await orders_.find(order_id);
    if (!order)
        throw DomainError(ErrorCode::OrderNotFound, "Order not found. orderId: " + std::to_string(order_id));
    co_return std::move(*order);
}

}  // namespace ec::app
