#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/product_repository.hpp"

namespace ec::app {

// GET /api/products/top: the best sellers of the last 3 business days, from real paid orders,
// recomputed at most every `ttl` (0 = on every request).
class GetTopProducts {
public:
    GetTopProducts(ProductRepository& products, std::string time_zone, std::chrono::milliseconds ttl)
        : products_(products), time_zone_(std::move(time_zone)), ttl_(ttl) {}
    boost::asio::awaitable<std::vector<domain::TopProduct>> execute();

private:
    ProductRepository& products_;
    std::string time_zone_;
    std::chrono::milliseconds ttl_;
    std::mutex mutex_;
    std::shared_ptr<const std::vector<domain::TopProduct>> cached_;
    std::chrono::steady_clock::time_point computed_at_{};
};

}  // namespace ec::app
