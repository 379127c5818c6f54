#pragma once
// The shopping cart (SPEC §8): one per user, one line per product, stock checked but not taken.
#include <cstdint>
#include <string>
#include <vector>

namespace ec::domain {

struct CartLine {
    std::int64_t product_id = 0;
    std::string name;
    std::int64_t unit_price = 0;
    std::int32_t quantity = 0;
    std::int32_t stock = 0;

    std::int64_t subtotal() const { return unit_price * quantity; }
    bool stock_available() const { return stock >= quantity; }
};

struct Cart {
    std::int64_t user_id = 0;
    std::vector<CartLine> lines;  // newest line first

    std::int64_t total() const;
};

// Adding needs quantity >= 1, setting an absolute quantity >= 0 (0 removes): else DomainError O001.
void validate_cart_add_quantity(std::int64_t quantity);
void validate_cart_set_quantity(std::int64_t quantity);

}  // namespace ec::domain
