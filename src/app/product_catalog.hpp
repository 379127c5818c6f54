#pragma once
// The product catalogue held in memory (SPEC §4.2: products are served from an in-process cache).
// Writers that change products in this instance (payments, compensations) call invalidate(), so the
// next read reloads; changes made elsewhere (other instances, SQL) are picked up after `ttl`.
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

    boost::asio::awaitable<Snapshot> snapshot();
    boost::asio::awaitable<std::optional<domain::Product>> find(std::int64_t product_id);
    void invalidate();

private:
    ProductRepository& products_;
    std::chrono::milliseconds ttl_;
    std::mutex mutex_;
    Snapshot snapshot_;
    std::chrono::steady_clock::time_point loaded_at_{};
    std::uint64_t generation_ = 0;  // bumped by invalidate(); a load started before it is not kept
};

}  // namespace ec::app
