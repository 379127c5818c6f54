#pragma once
// The daily sales ranking (SPEC §6): a business day, a product's units sold that day, and the one
// ordering rule every reader applies (more units first; ties go to the smaller productId).
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec::domain {

// A calendar day of the business time zone ("today" for rankings).
struct BusinessDate {
    int year = 1970;
    int month = 1;
    int day = 1;

    auto operator<=>(const BusinessDate&) const = default;
    std::string iso() const;      // "2026-11-25" (wire format)
    std::string compact() const;  // "20261125" (Redis key suffix)
};

// Strict "yyyy-MM-dd" of a real calendar day; nullopt for anything else ("2026-02-30", "2026-1-5").
std::optional<BusinessDate> parse_business_date(std::string_view text);
// As parse_business_date, but a bad value is a DomainError COMMON002 naming `field`.
BusinessDate require_business_date(std::string_view text, std::string_view field);

// The business day an instant falls on. The business zone is the process's local zone (main sets TZ
// to business.time-zone before anything runs), so this agrees with SQL's `AT TIME ZONE` on it.
BusinessDate business_date_of_epoch_us(std::int64_t epoch_us);
BusinessDate business_today();

// The oldest business day all of whose paid orders' events are still kept when published outbox events
// are deleted `retention` after they were written (outbox.retention): the day that instant falls on
// may already have lost some, so it is the day after. Whole days only (rounded towards today).
BusinessDate oldest_day_with_all_events(BusinessDate today, std::chrono::milliseconds retention);

struct RankingEntry {
    std::int64_t product_id = 0;
    std::int64_t sales_count = 0;
    bool operator==(const RankingEntry&) const = default;
};

// Sorts by sales desc, then productId asc, and keeps the first `limit`.
void order_ranking(std::vector<RankingEntry>& entries, std::size_t limit);

// 1-based rank of `product_id` among products with these counts: 1 + those with more units + those
// with as many units and a smaller id.
std::int64_t rank_among(std::int64_t product_id, std::int64_t above,
                        const std::vector<std::int64_t>& tied_ids);

inline constexpr int kRankingDefaultLimit = 10;
inline constexpr int kRankingMaxLimit = 100;
// `limit` of GET /api/products/ranking/top: absent -> 10; outside 1..100 -> DomainError COMMON002.
int ranking_limit(std::optional<std::int64_t> requested);

// What fed a ranking answer (the `source` field): the live sorted set, the periodic PostgreSQL
// backup, or nothing at all.
enum class RankingSource { Redis, Backup, None };
std::string_view source_name(RankingSource source);

// One line of a ranking answer, with the name the client sees.
struct RankedProduct {
    int rank = 0;
    std::int64_t product_id = 0;
    std::string product_name;
    std::int64_t sales_count = 0;
};

// What a paid order adds to the ranking: the outbox event's payload (SPEC §6).
struct OrderCompleted {
    std::int64_t event_id = 0;
    std::int64_t order_id = 0;
    std::int64_t user_id = 0;
    std::int64_t total_amount = 0;
    std::int64_t paid_at_us = 0;
    struct Line {
        std::int64_t product_id = 0;
        std::int64_t quantity = 0;
    };
    std::vector<Line> items;
};

}  // namespace ec::domain
