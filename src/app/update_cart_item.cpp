#include "app/update_cart_item.hpp"

namespace ec::app {

boost::asio::awaitable<domain::CartLine> UpdateCartItem::set_quantity(std::int64_t user_id,
                                                                      std::int64_t product_id,
                                                                      std::int64_t quantity) {
    domain::validate_cart_set_quantity(quantity);
    auto change = co_await carts_.set_quantity(user_id, product_id, static_cast<std::int32_t>(quantity));
    throw_if_refused(change, user_id, product_id);
    co_return std::move(change.line);
}

boost::asio::awaitable<void> UpdateCartItem::remove(std::int64_t user_id, std::int64_t product_id) {
    const auto change = co_await carts_.set_quantity(user_id, product_id, 0);
    throw_if_refused(change, user_id, product_id);
    co_return;
}

}  // namespace ec::app
