#pragma once
// The live ranking and the order-completed stream in Redis (SPEC §6), behind app::RankingStore.
//
// Keys (the day's keys share the hash tag {yyyyMMdd}, so each script touches one cluster slot):
//   ranking:product:orders:daily:{yyyyMMdd}    ZSET productId -> units sold that business day
//   ranking:product:orders:applied:{yyyyMMdd}  SET  outbox event ids already counted that day
//   order-completed                            STREAM one entry per paid order (fields in docs)
//   {order-completed}:applied:yyyyMMdd         SET  outbox event ids already appended
// Every key expires after ranking.key-ttl; the stream is trimmed to about `stream_max_length`.
#include <chrono>
#include <string>

#include "app/ranking_store.hpp"
#include "infra/redis/redis_client.hpp"

namespace ec::infra::redis {

std::string ranking_day_key(domain::BusinessDate date);
std::string ranking_applied_key(domain::BusinessDate date);
inline constexpr const char* kOrderCompletedStream = "order-completed";

class RedisRankingStore : public app::RankingStore {
public:
    RedisRankingStore(RedisClient& redis, std::chrono::milliseconds key_ttl, std::int64_t stream_max_length);

    boost::asio::awaitable<std::vector<domain::RankingEntry>> top(domain::BusinessDate date,
                                                                  int limit) override;
    boost::asio::awaitable<std::optional<Position>> position(domain::BusinessDate date,
                                                             std::int64_t product_id) override;
    boost::asio::awaitable<bool> apply(const domain::OrderCompleted& event) override;
    boost::asio::awaitable<bool> append_completed(const domain::OrderCompleted& event) override;
    boost::asio::awaitable<void> replace_day(domain::BusinessDate date,
                                             const std::vector<domain::RankingEntry>& totals,
                                             const std::vector<std::int64_t>& event_ids) override;

private:
    RedisClient& redis_;
    std::string ttl_seconds_;
    std::string stream_max_length_;
};

}  // namespace ec::infra::redis
