#include "app/cart_repository.hpp"
#include "domain/error.hpp"

namespace ec::app {

using domain::DomainError;
using domain::ErrorCode;

void throw_if_refused(const CartChange& change, std::int64_t user_id, std::int64_t product_id) {
    switch (change.kind) {
        case CartChange::Kind::Done:
            return;
        case CartChange::Kind::UserNotFound:
            throw DomainError(ErrorCode::UserNotFound, "User not found. userId: " + std::to_string(user_id));
        case CartChange::Kind::ProductNotFound:
            throw DomainError(ErrorCode::ProductNotFound,
                              "Product not found. productId: " + std::to_string(product_id));
        case CartChange::Kind::CartNotFound:
            throw DomainError(ErrorCode::CartNotFound, "Cart not found. userId: " + std::to_string(user_id));
        case CartChange::Kind::ItemNotFound:
            throw DomainError(ErrorCode::CartItemNotFound,
                              "The cart has no item for productId: " + std::to_string(product_id));
        case CartChange::Kind::InsufficientStock:
            throw DomainError(ErrorCode::InsufficientStock,
                              "Insufficient stock. product: " + change.product_name +
                                  " (requested: " + std::to_string(change.requested) +
                                  ", in stock: " + std::to_string(change.stock) + ")");
    }
}

}  // namespace ec::app
