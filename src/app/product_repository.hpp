#pragma once
// Port: the product catalogue and its sales. Implemented by infra/postgres/pg_product_repository.
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "domain/product.hpp"

namespace ec::app {

class ProductRepository {
public:
    virtual ~ProductRepository() = default;
    virtual boost::asio::awaitable<std::vector<domain::Product>> all() = 0;
    // Top `limit` products by units sold in COMPLETED orders paid on the last `days` calendar days
    // (today included) of `time_zone`; ties by smaller product id. Ranks are 1-based.
    virtual boost::asio::awaitable<std::vector<domain::TopProduct>> top_selling(
        int days, int limit, const std::string& time_zone) = 0;
};

}  // namespace ec::app
