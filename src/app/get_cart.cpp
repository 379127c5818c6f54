#include "app/get_cart.hpp"

#include "domain/error.hpp"

namespace ec::app {

boost::asio::awaitable<domain::Cart> GetCart::execute(std::int64_t user_id) {
    auto cart = co_await carts_.find(user_id);
    if (!cart) {
        throw domain::DomainError(domain::ErrorCode::UserNotFound,
                                  "User not found. userId: " + std::to_string(user_id));
    }
    co_return std::move(*cart);
}

}  // namespace ec::app
