#pragma once
#include <boost/asio/awaitable.hpp>

#include "app/cart_repository.hpp"

namespace ec::app {

// GET /api/cart?userId=: the cart (empty when the user has none) or 404 U001.
class GetCart {
public:
    explicit GetCart(CartRepository& carts) : carts_(carts) {}
    boost::asio::awaitable<domain::Cart> execute(std::int64_t user_id);

private:
    CartRepository& carts_;
};

}  // namespace ec::app
