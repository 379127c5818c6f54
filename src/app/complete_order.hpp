#pragma once
#include <boost/asio/awaitable.hpp>

#include "app/create_order.hpp"
#include "app/pay_order.hpp"

namespace ec::app {

struct CompletedOrder {
    domain::Order order;  // as it is after the payment
    domain::PaymentReceipt payment;
};

// POST /api/orders/complete: create and pay in one call. With an idempotency key the whole call
// is retry-safe (the key guards both steps); without one, each call is a new order as in the original.
class CompleteOrder {
public:
    CompleteOrder(CreateOrder& create, PayOrder& pay, OrderRepository& orders)
        : create_(create), pay_(pay), orders_(orders) {}
    boost::asio::awaitable<CompletedOrder> execute(CreateOrderRequest request);

private:
    CreateOrder& create_;
    PayOrder& pay_;
    OrderRepository& orders_;
};

}  // namespace ec::app
