#include "domain/cart.hpp"

#include <limits>

#include "domain/error.hpp"

namespace ec::domain {

std::int64_t Cart::total() const {
    std::int64_t sum = 0;
    for (const auto& line : lines) sum += line.subtotal();
    return sum;
}

namespace {
void validate_quantity(std::int64_t quantity, std::int64_t min) {
    if (quantity < min) {
        throw DomainError(ErrorCode::InvalidQuantity, "Quantity must be at least " + std::to_string(min) +
                                                          ", got " + std::to_string(quantity));
    }
    if (quantity > std::numeric_limits<std::int32_t>::max()) {
        throw DomainError(ErrorCode::InvalidInput, "Field 'quantity' is out of range");
    }
}
}  // namespace

void validate_cart_add_quantity(std::int64_t quantity) {
    validate_quantity(quantity, 1);
}
void validate_cart_set_quantity(std::int64_t quantity) {
    validate_quantity(quantity, 0);
}

}  // namespace ec::domain
