#include "domain/product.hpp"

#include <algorithm>

#include "domain/error.hpp"

namespace ec::domain {

ProductSort parse_product_sort(std::string_view text) {
    if (text.empty()) return ProductSort::ById;
    if (text == "price" || text == "price_asc") return ProductSort::PriceAsc;
    if (text == "price_desc") return ProductSort::PriceDesc;
    if (text == "newest") return ProductSort::Newest;
    throw DomainError(ErrorCode::InvalidInput,
                      "Unknown sort '" + std::string(text) + "': use price, price_asc, price_desc or newest");
}

std::vector<Product> select_products(const std::vector<Product>& all, std::string_view category,
                                     ProductSort sort) {
    std::vector<Product> out;
    out.reserve(all.size());
    for (const auto& p : all) {
        if (category.empty() || (p.category && *p.category == category)) out.push_back(p);
    }
    const auto by_id = [](const Product& a, const Product& b) { return a.id < b.id; };
    switch (sort) {
        case ProductSort::ById:
            std::sort(out.begin(), out.end(), by_id);
            break;
        case ProductSort::PriceAsc:
            std::sort(out.begin(), out.end(), [&](const Product& a, const Product& b) {
                return a.price != b.price ? a.price < b.price : by_id(a, b);
            });
            break;
        case ProductSort::PriceDesc:
            std::sort(out.begin(), out.end(), [&](const Product& a, const Product& b) {
                return a.price != b.price ? a.price > b.price : by_id(a, b);
            });
            break;
        case ProductSort::Newest:
            std::sort(out.begin(), out.end(), [&](const Product& a, const Product& b) {
                return a.created_at_us != b.created_at_us ? a.created_at_us > b.created_at_us : b.id < a.id;
            });
            break;
    }
    return out;
}

}  // namespace ec::domain
