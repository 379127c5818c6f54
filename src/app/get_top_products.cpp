#include "app/get_top_products.hpp"

namespace ec::app {

boost::asio::awaitable<std::vector<domain::TopProduct>> GetTopProducts::execute() {
    {
        std::lock_guard lock(mutex_);
        if (cached_ && std::chrono::steady_clock::now() - computed_at_ < ttl_) co_return *cached_;
    }
    const auto started = std::chrono::steady_clock::now();
    auto top =
        co_await products_.top_selling(domain::kTopProductsDays, domain::kTopProductsLimit, time_zone_);
    if (ttl_.count() > 0) {
        std::lock_guard lock(mutex_);
        cached_ = std::make_shared<const std::vector<domain::TopProduct>>(top);
        computed_at_ = started;
    }
    co_return top;
}

}  // namespace ec::app
