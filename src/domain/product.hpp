#pragma once
// Products and the catalogue queries of GET /api/products (SPEC §4.2).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec::domain {

struct Product {
    std::int64_t id = 0;
    std::string name;
    std::optional<std::string> description;
    std::int64_t price = 0;
    std::int32_t stock = 0;
    std::optional<std::string> category;
    std::int64_t created_at_us = 0;
};

enum class ProductSort { ById, PriceAsc, PriceDesc, Newest };

// "" -> ById; "price"/"price_asc", "price_desc", "newest"; anything else -> DomainError COMMON002.
ProductSort parse_product_sort(std::string_view text);

// The catalogue filtered by exact category (empty = all) in the requested order; ties by id.
std::vector<Product> select_products(const std::vector<Product>& all, std::string_view category,
                                     ProductSort sort);

// One line of GET /api/products/top: units sold in paid orders of the last 3 business days.
struct TopProduct {
    int rank = 0;
    std::int64_t product_id = 0;
    std::string name;
    std::int64_t sales_count = 0;
    std::int64_t revenue = 0;
};

inline constexpr int kTopProductsLimit = 5;
inline constexpr int kTopProductsDays = 3;  // today and the 2 days before, in the business zone

}  // namespace ec::domain
