#include "app/product_catalog.hpp"

#include <algorithm>

namespace ec::app {

boost::asio::awaitable<ProductCatalog::Snapshot> ProductCatalog::snapshot() {
    return load(true);
}

boost::asio::awaitable<ProductCatalog::Snapshot> ProductCatalog::names_snapshot() {
    return load(false);
}

boost::asio::awaitable<ProductCatalog::Snapshot> ProductCatalog::load(bool stock_must_be_fresh) {
    std::uint64_t generation = 0;
    {
        std::lock_guard lock(mutex_);
        const bool usable = snapshot_ && std::chrono::steady_clock::now() - loaded_at_ < ttl_ &&
                            !(stock_must_be_fresh && stock_stale_);
        if (usable) co_return snapshot_;
        generation = generation_;
    }
    const auto started = std::chrono::steady_clock::now();
    auto loaded = std::make_shared<std::vector<domain::Product>>(co_await products_.all());
    std::sort(loaded->begin(), loaded->end(),
              [](const domain::Product& a, const domain::Product& b) { return a.id < b.id; });
    Snapshot fresh = std::move(loaded);
    {
        std::lock_guard lock(mutex_);
        // A load that raced with stock_changed() may predate the change: serve it once, never cache it.
        if (generation == generation_ && (!snapshot_ || stock_stale_ || started >= loaded_at_)) {
            snapshot_ = fresh;
            loaded_at_ = started;
            stock_stale_ = false;
        }
    }
    co_return fresh;
}

boost::asio::awaitable<std::optional<domain::Product>> ProductCatalog::find(std::int64_t product_id) {
    const auto all = co_await snapshot();
    const auto it = std::lower_bound(all->begin(), all->end(), product_id,
                                     [](const domain::Product& p, std::int64_t id) { return p.id < id; });
    if (it == all->end() || it->id != product_id) co_return std::nullopt;
    co_return *it;
}

void ProductCatalog::stock_changed() {
    std::lock_guard lock(mutex_);
    stock_stale_ = true;
    ++generation_;
}

}  // namespace ec::app
