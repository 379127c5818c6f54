#pragma once
// Port: carts. Implemented by infra/postgres/pg_cart_repository.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "domain/cart.hpp"

namespace ec::app {

// Result of a cart change. Refusals change nothing.
struct CartChange {
    enum class Kind { Done, UserNotFound, ProductNotFound, CartNotFound, ItemNotFound, InsufficientStock };
    Kind kind = Kind::Done;
    domain::CartLine line;       // Done: the line afterwards (quantity 0 when removed)
    std::string product_name;    // InsufficientStock
    std::int64_t requested = 0;  // InsufficientStock: the quantity the line would have had
    std::int32_t stock = 0;      // InsufficientStock
};

class CartRepository {
public:
    virtual ~CartRepository() = default;
    // The user's cart (empty when none); nullopt when the user does not exist.
    virtual boost::asio::awaitable<std::optional<domain::Cart>> find(std::int64_t user_id) = 0;
    // Adds `quantity` to the user's line of the product (creating cart and line as needed), atomically.
    virtual boost::asio::awaitable<CartChange> add(std::int64_t user_id, std::int64_t product_id,
                                                   std::int32_t quantity) = 0;
    // Sets the line to an absolute quantity; 0 removes it.
    virtual boost::asio::awaitable<CartChange> set_quantity(std::int64_t user_id, std::int64_t product_id,
                                                            std::int32_t quantity) = 0;
};

// Throws the DomainError of a refused change (U001, P001, CART001, CART002, P002); no-op for Done.
void throw_if_refused(const CartChange& change, std::int64_t user_id, std::int64_t product_id);

}  // namespace ec::app
