#pragma once
#include <boost/asio/awaitable.hpp>

#include "app/cart_repository.hpp"

namespace ec::app {

// POST /api/cart/items: adds to the line's quantity; answers the whole cart afterwards.
class AddCartItem {
public:
    explicit AddCartItem(CartRepository& carts) : carts_(carts) {}
    boost::asio::awaitable<domain::Cart> execute(std::int64_t user_id, std::int64_t product_id,
                                                 std::int64_t quantity);

private:
    CartRepository& carts_;
};

}  // namespace ec::app
