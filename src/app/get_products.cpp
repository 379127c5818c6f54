#include "app/get_products.hpp"

#include "domain/error.hpp"

namespace ec::app {

boost::asio::awaitable<std::vector<domain::Product>> GetProducts::list(const std::string& category,
                                                                       const std::string& sort) {
    const auto order = domain::parse_product_sort(sort);  // refuse bad input before any work
    const auto all = co_await catalog_.snapshot();
    co_return domain::select_products(*all, category, order);
}

boost::asio::awaitable<domain::Product> GetProducts::one(std::int64_t product_id) {
    auto product = co_await catalog_.find(product_id);
    if (!product) {
        throw domain::DomainError(domain::ErrorCode::ProductNotFound,
                                  "Product not found. productId: " + std::to_string(product_id));
    }
    co_return std::move(*product);
}

}  // namespace ec::app
