#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "app/outbox_signal.hpp"
#include "app/payment_gateway.hpp"
#include "app/payment_repository.hpp"
#include "app/product_catalog.hpp"

namespace ec::ops {
class MetricsRegistry;
class Counter;
}  // namespace ec::ops

namespace ec::app {

// POST /api/orders/{id}/payment: the three-step saga of SPEC §8 — reserve (one transaction), the
// gateway call outside any transaction, then complete or compensate (one transaction each).
// Idempotent per (user, key): a replay answers the first result; a concurrent twin waits for it.
class PayOrder {
public:
    PayOrder(PaymentRepository& payments, PaymentGateway& gateway, ProductCatalog& catalog,
             OutboxSignal& outbox, ops::MetricsRegistry& metrics, std::chrono::milliseconds in_progress_wait);
    boost::asio::awaitable<domain::PaymentReceipt> execute(std::int64_t order_id, std::int64_t user_id,
                                                           const std::string& idempotency_key);

private:
    boost::asio::awaitable<domain::PaymentReceipt> pay(std::int64_t order_id, std::int64_t user_id,
                                                       const std::string& key);
    boost::asio::awaitable<ReserveOutcome> reserve_waiting_for_twin(std::int64_t order_id,
                                                                    std::int64_t user_id,
                                                                    const std::string& key);

    PaymentRepository& payments_;
    PaymentGateway& gateway_;
    ProductCatalog& catalog_;
    OutboxSignal& outbox_;
    std::chrono::milliseconds in_progress_wait_;
    ops::Counter& succeeded_;
    ops::Counter& failed_;
};

}  // namespace ec::app
