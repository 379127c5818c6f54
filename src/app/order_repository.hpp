#pragma once
// Port: orders. Implemented by infra/postgres/pg_order_repository.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/order.hpp"

namespace ec::app {

struct CreateOrderOutcome {
    enum class Kind {
        Created,
        Replayed,
        KeyReused,
        UserNotFound,
        ProductNotFound,
        InsufficientStock,
        CouponNotFound,
        CouponNotOwned,
        CouponNotUsable,
        CouponExpired,
    };
    Kind kind = Kind::Created;
    std::optional<domain::Order> order;  // Created, Replayed: the order as it is now
    std::int64_t product_id = 0;         // ProductNotFound, InsufficientStock
    std::string detail;                  // InsufficientStock: product name; CouponNotUsable: its status
    std::int64_t requested = 0;          // InsufficientStock
    std::int32_t stock = 0;              // InsufficientStock
};

class OrderRepository {
public:
    virtual ~OrderRepository() = default;
    // Creates a PENDING order idempotently per (user, key); `lines` are normalised (distinct, sorted).
    virtual boost::asio::awaitable<CreateOrderOutcome> create(
        std::int64_t user_id, const std::string& key, const std::string& fingerprint,
        const std::vector<domain::OrderLineRequest>& lines, std::optional<std::int64_t> coupon_id) = 0;
    virtual boost::asio::awaitable<std::optional<domain::Order>> find(std::int64_t order_id) = 0;
    // The user's orders, newest first; nullopt when the user does not exist.
    virtual boost::asio::awaitable<std::optional<std::vector<domain::Order>>> of_user(
        std::int64_t user_id, std::optional<domain::OrderStatus> status) = 0;
};

}  // namespace ec::app
