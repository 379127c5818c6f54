#pragma once
// GET /api/products/ranking/top and /ranking/product/{id} (SPEC §6): the live ranking in Redis,
// with product names from the in-process catalogue; when Redis cannot answer (error, timeout,
// breaker open) or the day is empty, the PostgreSQL backup of that day; when that is empty too,
// nothing. Never fails because Redis is down.
//
// Answers read from Redis are kept for `cache_ttl`, and expire at once when this instance's outbox
// relay changes the ranking (invalidate()): a hot leaderboard is read far more often than it
// changes, and the round trip to Redis is most of its cost. Changes applied by other instances are
// seen within `cache_ttl`; 0 turns the cache off. When an answer expires, one caller reads Redis
// again while the others keep getting the previous answer for the length of that read (no burst of
// identical reads on every expiry or relay batch); a failed read drops the entry, so a Redis outage
// shows at once. Names come from the catalogue's names_snapshot(), which stock changes do not expire.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "app/product_catalog.hpp"
#include "app/ranking_backup_repository.hpp"
#include "app/ranking_store.hpp"
#include "domain/ranking.hpp"

namespace ec::ops {
class MetricsRegistry;
class Counter;
}  // namespace ec::ops

namespace ec::app {

// Shared, not copied: a cached answer goes out to every reader of the hot leaderboard as is.
using RankedList = std::shared_ptr<const std::vector<domain::RankedProduct>>;

struct RankingAnswer {
    domain::BusinessDate date;
    RankedList rankings;  // never null
    domain::RankingSource source = domain::RankingSource::None;
};

struct ProductRankAnswer {
    std::int64_t product_id = 0;
    domain::BusinessDate date;
    std::int64_t rank = -1;  // -1: unranked that day
    std::int64_t sales_count = 0;
    domain::RankingSource source = domain::RankingSource::None;
};

class GetRanking {
public:
    GetRanking(RankingStore& store, RankingBackupRepository& backup, ProductCatalog& catalog,
               ops::MetricsRegistry& metrics, std::chrono::milliseconds cache_ttl);

    // `date` defaults to today in the business zone; `limit` is already validated (1..100).
    boost::asio::awaitable<RankingAnswer> top(std::optional<domain::BusinessDate> date, int limit);
    boost::asio::awaitable<ProductRankAnswer> product(std::int64_t product_id,
                                                      std::optional<domain::BusinessDate> date);
    // The live ranking changed (called by the outbox relay after it applied events).
    void invalidate();

private:
    struct Cached {
        RankedList rankings;
        std::chrono::steady_clock::time_point loaded_at;
        bool expired = false;  // by invalidate(), whatever loaded_at says
        std::optional<std::chrono::steady_clock::time_point> refresh_started;  // by the caller re-reading it
    };
    RankedList cached(domain::BusinessDate date, int limit);  // null: not cached, or this caller refreshes
    void keep(domain::BusinessDate date, int limit, RankedList rankings, std::uint64_t generation,
              std::chrono::steady_clock::time_point started);
    void drop(domain::BusinessDate date, int limit);

    boost::asio::awaitable<std::vector<domain::RankedProduct>> from_backup(domain::BusinessDate date,
                                                                           int limit);

    RankingStore& store_;
    RankingBackupRepository& backup_;
    ProductCatalog& catalog_;
    ops::Counter& fallback_backup_;
    ops::Counter& fallback_none_;
    std::chrono::milliseconds cache_ttl_;
    std::mutex mutex_;
    std::map<std::pair<domain::BusinessDate, int>, Cached> cache_;
    std::uint64_t generation_ = 0;  // bumped by invalidate(); a read started before it is not kept
};

// The name a ranking shows for a product missing from the catalogue (deleted since it sold).
inline constexpr const char* kUnknownProductName = "상품 없음";

// Ranked lines (1-based, in the given order) named from the catalogue.
std::vector<domain::RankedProduct> with_names(const std::vector<domain::RankingEntry>& entries,
                                              const ProductCatalog::Snapshot& catalog);

}  // namespace ec::app
