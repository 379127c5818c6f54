#pragma once
// Port: the live daily ranking and the order-completed stream (SPEC §6). Implemented by
// infra/redis/redis_ranking_store. Every method throws DependencyUnavailable when the store cannot
// answer (down, timed out, breaker open).
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <vector>

#include "domain/ranking.hpp"

namespace ec::app {

class RankingStore {
public:
    struct Position {
        std::int64_t rank = 0;  // 1-based, ties to the smaller productId
        std::int64_t sales_count = 0;
    };

    virtual ~RankingStore() = default;

    // The day's best `limit` products, already in ranking order (domain::order_ranking).
    virtual boost::asio::awaitable<std::vector<domain::RankingEntry>> top(domain::BusinessDate date,
                                                                          int limit) = 0;
    // One product's place that day; nullopt when it sold nothing.
    virtual boost::asio::awaitable<std::optional<Position>> position(domain::BusinessDate date,
                                                                     std::int64_t product_id) = 0;
    // Adds a paid order's units to its day. Idempotent per event id: true when applied now, false
    // when that event had already been applied (a retry after a crash or a lost reply).
    virtual boost::asio::awaitable<bool> apply(const domain::OrderCompleted& event) = 0;
    // Appends the order to the order-completed stream, also at most once per event id.
    virtual boost::asio::awaitable<bool> append_completed(const domain::OrderCompleted& event) = 0;
    // Replaces a whole day with `totals`, remembering `event_ids` as applied (rebuild).
    virtual boost::asio::awaitable<void> replace_day(domain::BusinessDate date,
                                                     const std::vector<domain::RankingEntry>& totals,
                                                     const std::vector<std::int64_t>& event_ids) = 0;
};

}  // namespace ec::app
