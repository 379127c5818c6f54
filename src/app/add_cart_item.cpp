#include "app/add_cart_item.hpp"

#include "domain/error.hpp"

namespace ec::app {

boost::asio::awaitable<domain::Cart> AddCartItem::execute(std::int64_t user_id, std::int64_t product_id,
                                                          std::int64_t quantity) {
    domain::validate_cart_add_quantity(quantity);
    const auto change = co_await carts_.add(user_id, product_id, static_cast<std::int32_t>(quantity));
    throw_if_refused(change, user_id, product_id);
    auto cart = co_await carts_.find(user_id);
    if (!cart)
        throw domain::DomainError(domain::ErrorCode::UserNotFound,
                                  "User not found. userId: " + std::to_string(user_id));
    co_return std::move(*cart);
}

}  // namespace ec::app
