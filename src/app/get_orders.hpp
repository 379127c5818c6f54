#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "app/order_repository.hpp"

namespace ec::app {

// GET /api/orders?userId=&status= and GET /api/orders/{id}.
class GetOrders {
public:
    explicit GetOrders(OrderRepository& orders) : orders_(orders) {}
    // `status` empty = all; unknown -> COMMON002; unknown user -> U001.
    boost::asio::awaitable<std::vector<domain::Order>> of_user(std::int64_t user_id,
                                                               const std::string& status);
    // The order or DomainError O002.
    boost::asio::awaitable<domain::Order> one(std::int64_t order_id);

private:
    OrderRepository& orders_;
};

}  // namespace ec::app
