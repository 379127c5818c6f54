#pragma once
// The product catalogue held in memory (SPEC §4.2: products are served from an in-process cache).
// Writers that change stock in this instance (payments, compensations) call stock_changed(), so the
// next read that shows stock reloads; changes made elsewhere (other instances, SQL) are picked up
// after `ttl`. Readers that need only names (the ranking) use names_snapshot(), which a stock change
// does not expire: under steady sales every payment changes stock, and the ranking must not reload
// the catalogue from the database after each one (SPEC §6: no query per ranking read).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "app/product_repository.hpp"

namespace ec::app {

class ProductCatalog {
public:
    using Snapshot = std::shared_ptr<const std::vector<domain::Product>>;  // sorted by id

    ProductCatalog(ProductRepository& products, std::chrono::milliseconds ttl)
        : products_(products), ttl_(ttl) {}

    boost::asio::awaitable<Snapshot> snapshot();        // stock as of the last stock_changed() at least
    boost::asio::awaitable<Snapshot> names_snapshot();  // names, ids and prices; stock may be stale
    boost::asio::awaitable<std::optional<domain::Product>> find(std::int64_t product_id);
    void stock_changed();

private:
    boost::asio::awaitable<Snapshot> load(bool stock_must_be_fresh);

    ProductRepository& products_;
    std::chrono::milliseconds ttl_;
    std::mutex mutex_;
    Snapshot snapshot_;
    std::chrono::steady_clock::time_point loaded_at_{};
    bool stock_stale_ = false;      // set by stock_changed(), cleared by the next kept load
    std::uint64_t generation_ = 0;  // bumped by stock_changed(); a load started before it is not kept
};

}  // namespace ec::app
