#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "app/payment_repository.hpp"
#include "app/product_catalog.hpp"

namespace ec::app {

// Rolls back payments abandoned between reserve and complete by a crashed instance (SPEC §11), so
// no balance or stock stays taken for an order that was never paid. Run periodically.
class RecoverStalePayments {
public:
    RecoverStalePayments(PaymentRepository& payments, ProductCatalog& catalog,
                         std::chrono::milliseconds stale_after)
        : payments_(payments), catalog_(catalog), stale_after_(stale_after) {}
    // Returns how many were rolled back.
    boost::asio::awaitable<std::size_t> execute();

private:
    PaymentRepository& payments_;
    ProductCatalog& catalog_;
    std::chrono::milliseconds stale_after_;
};

}  // namespace ec::app
