#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "app/product_catalog.hpp"

namespace ec::app {

// GET /api/products?category=&sort= and GET /api/products/{id}, from the in-memory catalogue.
class GetProducts {
public:
    explicit GetProducts(ProductCatalog& catalog) : catalog_(catalog) {}
    boost::asio::awaitable<std::vector<domain::Product>> list(const std::string& category,
                                                              const std::string& sort);
    // The product or DomainError P001.
    boost::asio::awaitable<domain::Product> one(std::int64_t product_id);

private:
    ProductCatalog& catalog_;
};

}  // namespace ec::app
