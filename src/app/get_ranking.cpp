#include "app/get_ranking.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "app/errors.hpp"
#include "ops/metrics.hpp"

namespace ec::app {

using boost::asio::awaitable;

std::vector<domain::RankedProduct> with_names(const std::vector<domain::RankingEntry>& entries,
                                              const ProductCatalog::Snapshot& catalog) {
    std::vector<domain::RankedProduct> out;
    out.reserve(entries.size());
    for (const auto& e : entries) {
        const auto it = std::lower_bound(catalog->begin(), catalog->end(), e.product_id,
                                         [](const domain::Product& p, std::int64_t id) { return p.id < id; });
        const bool known = it != catalog->end() && it->id == e.product_id;
        out.push_back(domain::RankedProduct{static_cast<int>(out.size()) + 1, e.product_id,
                                            known ? it->name : kUnknownProductName, e.sales_count});
    }
    return out;
}

GetRanking::GetRanking(RankingStore& store, RankingBackupRepository& backup, ProductCatalog& catalog,
                       ops::MetricsRegistry& metrics, std::chrono::milliseconds cache_ttl)
    : store_(store),
      backup_(backup),
      catalog_(catalog),
      fallback_backup_(metrics.counter("ranking_fallback_total",
                                       "Ranking answers not served from Redis, by what served them",
                                       {{"source", "backup"}})),
      fallback_none_(metrics.counter("ranking_fallback_total",
                                     "Ranking answers not served from Redis, by what served them",
                                     {{"source", "none"}})),
      cache_ttl_(cache_ttl) {}

void GetRanking::invalidate() {
    std::lock_guard lock(mutex_);
    ++generation_;
    // Expired, not dropped: the next caller re-reads Redis at once, and the callers arriving during
    // that read get the previous answer. Under steady sales the relay changes the ranking every few
    // milliseconds; dropping the answers sent every concurrent reader to Redis at the same moment.
    for (auto& [key, entry] : cache_) {
        entry.expired = true;
        entry.refresh_started.reset();
    }
}

RankedList GetRanking::cached(domain::BusinessDate date, int limit) {
    if (cache_ttl_.count() == 0) return nullptr;
    std::lock_guard lock(mutex_);
    const auto it = cache_.find({date, limit});
    if (it == cache_.end()) return nullptr;
    const auto now = std::chrono::steady_clock::now();
    auto& entry = it->second;
    if (!entry.expired && now - entry.loaded_at < cache_ttl_) return entry.rankings;
    // Expired. One caller re-reads it; the others get the previous answer meanwhile. A re-read taking
    // longer than this (Redis slow) lets another caller try.
    constexpr std::chrono::milliseconds kRefreshGrace{500};
    if (entry.refresh_started && now - *entry.refresh_started < kRefreshGrace) return entry.rankings;
    entry.refresh_started = now;
    return nullptr;
}

void GetRanking::drop(domain::BusinessDate date, int limit) {
    if (cache_ttl_.count() == 0) return;
    std::lock_guard lock(mutex_);
    cache_.erase({date, limit});
}

void GetRanking::keep(domain::BusinessDate date, int limit, RankedList rankings, std::uint64_t generation,
                      std::chrono::steady_clock::time_point started) {
    if (cache_ttl_.count() == 0) return;
    std::lock_guard lock(mutex_);
    if (generation != generation_) return;     // the ranking changed while this was read
    if (cache_.size() > 1000) cache_.clear();  // bounded: dates and limits are client-chosen
    cache_[{date, limit}] = Cached{std::move(rankings), started, false, std::nullopt};
}

awaitable<RankingAnswer> GetRanking::top(std::optional<domain::BusinessDate> date, int limit) {
    RankingAnswer answer;
    answer.date = date.value_or(domain::business_today());
    if (auto hit = cached(answer.date, limit)) {
        answer.rankings = std::move(hit);
        answer.source = domain::RankingSource::Redis;
        co_return answer;
    }
    const auto started = std::chrono::steady_clock::now();
    std::uint64_t generation = 0;
    {
        std::lock_guard lock(mutex_);
        generation = generation_;
    }
    std::vector<domain::RankingEntry> live;
    try {
        live = co_await store_.top(answer.date, limit);
    } catch (const DependencyUnavailable& e) {
        spdlog::debug("ranking: Redis unavailable ({}), serving the backup", e.what());
    }
    if (!live.empty()) {
        const auto catalog = co_await catalog_.names_snapshot();
        answer.rankings =
            std::make_shared<const std::vector<domain::RankedProduct>>(with_names(live, catalog));
        answer.source = domain::RankingSource::Redis;
        keep(answer.date, limit, answer.rankings, generation, started);
        co_return answer;
    }
    drop(answer.date, limit);  // the next callers find out for themselves, not from a stale answer
    auto backup = co_await from_backup(answer.date, limit);
    answer.source = backup.empty() ? domain::RankingSource::None : domain::RankingSource::Backup;
    (backup.empty() ? fallback_none_ : fallback_backup_).increment();
    answer.rankings = std::make_shared<const std::vector<domain::RankedProduct>>(std::move(backup));
    co_return answer;
}

awaitable<ProductRankAnswer> GetRanking::product(std::int64_t product_id,
                                                 std::optional<domain::BusinessDate> date) {
    ProductRankAnswer answer;
    answer.product_id = product_id;
    answer.date = date.value_or(domain::business_today());
    try {
        const auto position = co_await store_.position(answer.date, product_id);
        answer.source = domain::RankingSource::Redis;
        if (position) {
            answer.rank = position->rank;
            answer.sales_count = position->sales_count;
        }
        co_return answer;
    } catch (const DependencyUnavailable& e) {
        spdlog::debug("ranking: Redis unavailable ({}), serving the backup", e.what());
    }
    const auto rows = co_await from_backup(answer.date, domain::kRankingMaxLimit);
    answer.source = rows.empty() ? domain::RankingSource::None : domain::RankingSource::Backup;
    (rows.empty() ? fallback_none_ : fallback_backup_).increment();
    for (const auto& row : rows) {
        if (row.product_id == product_id) {
            answer.rank = row.rank;
            answer.sales_count = row.sales_count;
        }
    }
    co_return answer;
}

awaitable<std::vector<domain::RankedProduct>> GetRanking::from_backup(domain::BusinessDate date, int limit) {
    try {
        co_return co_await backup_.load(date, limit);
    } catch (const std::exception& e) {
        // The backup lives in PostgreSQL; if that fails too the answer is an empty ranking, not a 5xx.
        spdlog::warn("ranking: backup of {} unreadable: {}", date.iso(), e.what());
    }
    co_return std::vector<domain::RankedProduct>{};
}

}  // namespace ec::app
