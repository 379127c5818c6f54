// The ranking's pure rules: business dates, ordering with ties, ranks, the limit parameter, the
// outbox payload, and the SQL array literals its repositories send.
#include <gtest/gtest.h>

#include "domain/error.hpp"
#include "domain/ranking.hpp"
#include "infra/events/outbox_relay.hpp"
#include "infra/postgres/pg_array.hpp"
#include "infra/redis/redis_ranking_store.hpp"

namespace ec {
namespace {

using domain::BusinessDate;
using domain::RankingEntry;

TEST(BusinessDateTest, ParsesOnlyRealDaysInStrictIsoForm) {
    EXPECT_EQ(domain::parse_business_date("2026-11-25"), (BusinessDate{2026, 11, 25}));
    EXPECT_EQ(domain::parse_business_date("2024-02-29"), (BusinessDate{2024, 2, 29}));
    for (const char* bad :
         {"2026-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-1-05", "20261125", "2026/11/25",
          "2026-11-25T00:00", " 2026-11-25", "", "abcd-ef-gh", "0000-01-01"}) {
        EXPECT_FALSE(domain::parse_business_date(bad).has_value()) << bad;
    }
    try {
        domain::require_business_date("2026-02-30", "date");
        FAIL() << "no error";
    } catch (const domain::DomainError& e) {
        EXPECT_EQ(e.code(), domain::ErrorCode::InvalidInput);
        EXPECT_NE(std::string(e.what()).find("date"), std::string::npos);
    }
}

TEST(BusinessDateTest, FormatsForTheWireAndForRedisKeys) {
    const BusinessDate d{2026, 1, 5};
    EXPECT_EQ(d.iso(), "2026-01-05");
    EXPECT_EQ(d.compact(), "20260105");
    EXPECT_EQ(infra::redis::ranking_day_key(d), "ranking:product:orders:daily:{20260105}");
    EXPECT_EQ(infra::redis::ranking_applied_key(d), "ranking:product:orders:applied:{20260105}");
}

TEST(BusinessDateTest, TheDayOfAnInstantIsThatOfTheProcessZone) {
    // main() sets TZ to business.time-zone; Asia/Seoul is UTC+9 with no DST.
    ::setenv("TZ", "Asia/Seoul", 1);
    ::tzset();
    // 2026-11-25T14:59:59.999999Z is 23:59:59 in Seoul; a microsecond later it is the 26th.
    const std::int64_t midnight_seoul_us = 1795618800LL * 1'000'000;  // 2026-11-25T15:00:00Z
    EXPECT_EQ(domain::business_date_of_epoch_us(midnight_seoul_us - 1), (BusinessDate{2026, 11, 25}));
    EXPECT_EQ(domain::business_date_of_epoch_us(midnight_seoul_us), (BusinessDate{2026, 11, 26}));
    EXPECT_EQ(domain::business_date_of_epoch_us(-1), (BusinessDate{1970, 1, 1}));  // 08:59:59 in Seoul
}

TEST(BusinessDateTest, TheOldestDayWithAllItsEventsIsTheDayAfterTheRetentionsStart) {
    using std::chrono::hours;
    const domain::BusinessDate today{2026, 3, 2};
    EXPECT_EQ(domain::oldest_day_with_all_events(today, hours(30 * 24)), (domain::BusinessDate{2026, 2, 1}));
    EXPECT_EQ(domain::oldest_day_with_all_events(today, hours(4 * 24)), (domain::BusinessDate{2026, 2, 27}));
    EXPECT_EQ(domain::oldest_day_with_all_events(today, hours(4 * 24 + 23)),
              (domain::BusinessDate{2026, 2, 27}))
        << "partial days round towards today";
    EXPECT_EQ(domain::oldest_day_with_all_events({2025, 1, 1}, hours(2 * 24)),
              (domain::BusinessDate{2024, 12, 31}));
    EXPECT_EQ(domain::oldest_day_with_all_events({2024, 3, 1}, hours(2 * 24)),
              (domain::BusinessDate{2024, 2, 29}));
}

TEST(RankingOrderTest, MoreUnitsFirstThenTheSmallerProductId) {
    // A sorted set orders equal scores by member *string*: "10" before "9". The rule is numeric.
    std::vector<RankingEntry> e{{9, 5}, {10, 5}, {3, 7}, {100, 5}, {2, 1}};
    domain::order_ranking(e, 10);
    EXPECT_EQ(e, (std::vector<RankingEntry>{{3, 7}, {9, 5}, {10, 5}, {100, 5}, {2, 1}}));
    domain::order_ranking(e, 2);
    EXPECT_EQ(e, (std::vector<RankingEntry>{{3, 7}, {9, 5}}));
}

TEST(RankingOrderTest, RankCountsThoseAboveAndTheSmallerTiedIds) {
    EXPECT_EQ(domain::rank_among(10, 0, {10}), 1);
    EXPECT_EQ(domain::rank_among(10, 2, {9, 10, 100}), 4);
    EXPECT_EQ(domain::rank_among(9, 2, {9, 10, 100}), 3);
    EXPECT_EQ(domain::rank_among(100, 0, {9, 10, 100}), 3);
}

TEST(RankingOrderTest, LimitDefaultsToTenAndMustBeOneToHundred) {
    EXPECT_EQ(domain::ranking_limit(std::nullopt), 10);
    EXPECT_EQ(domain::ranking_limit(1), 1);
    EXPECT_EQ(domain::ranking_limit(100), 100);
    for (const std::int64_t bad : {0LL, -1LL, 101LL, 1LL << 40}) {
        EXPECT_THROW(domain::ranking_limit(bad), domain::DomainError) << bad;
    }
    EXPECT_EQ(domain::source_name(domain::RankingSource::Redis), "redis");
    EXPECT_EQ(domain::source_name(domain::RankingSource::Backup), "backup");
    EXPECT_EQ(domain::source_name(domain::RankingSource::None), "none");
}

TEST(OutboxPayloadTest, ParsesTheOrderCompletedPayloadOfPaymentComplete) {
    const auto e = infra::events::parse_order_completed(
        42, R"({"orderId":7,"userId":1000,"totalAmount":5000,"paidAtUs":1795618800000000,)"
            R"("items":[{"productId":3,"quantity":2},{"productId":5,"quantity":1}]})");
    EXPECT_EQ(e.event_id, 42);
    EXPECT_EQ(e.order_id, 7);
    EXPECT_EQ(e.user_id, 1000);
    EXPECT_EQ(e.total_amount, 5000);
    EXPECT_EQ(e.paid_at_us, 1795618800000000);
    ASSERT_EQ(e.items.size(), 2U);
    EXPECT_EQ(e.items[1].product_id, 5);
    EXPECT_EQ(e.items[1].quantity, 1);
    EXPECT_ANY_THROW(infra::events::parse_order_completed(1, R"({"orderId":7})"));
    EXPECT_ANY_THROW(infra::events::parse_order_completed(1, "not json"));
}

TEST(PgArrayTest, LiteralsQuoteAndEscapeEveryElement) {
    EXPECT_EQ(infra::pg::array_literal(std::vector<std::int64_t>{}), "{}");
    EXPECT_EQ(infra::pg::array_literal(std::vector<std::int64_t>{1, -2, 3}), "{1,-2,3}");
    EXPECT_EQ(
        infra::pg::array_literal(std::vector<std::string>{"a", "", "b,c", "say \"hi\"", "x\\y", "NULL"}),
        R"({"a","","b,c","say \"hi\"","x\\y","NULL"})");
}

}  // namespace
}  // namespace ec
