#pragma once
#include <boost/asio/awaitable.hpp>

#include "app/cart_repository.hpp"

namespace ec::app {

// PUT /api/cart/items (absolute quantity; 0 removes) and DELETE /api/cart/items.
class UpdateCartItem {
public:
    explicit UpdateCartItem(CartRepository& carts) : carts_(carts) {}
    boost::asio::awaitable<domain::CartLine> set_quantity(std::int64_t user_id, std::int64_t product_id,
                                                          std::int64_t quantity);
    boost::asio::awaitable<void> remove(std::int64_t user_id, std::int64_t product_id);

private:
    CartRepository& carts_;
};

}  // namespace ec::app
