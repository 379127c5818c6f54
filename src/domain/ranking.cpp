#include "domain/ranking.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "domain/error.hpp"

namespace ec::domain {

std::string BusinessDate::iso() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
    return buf;
}

std::string BusinessDate::compact() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", year, month, day);
    return buf;
}

std::optional<BusinessDate> parse_business_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    auto number = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
        int v = 0;
        const auto* first = text.data() + pos;
        const auto* last = first + len;
        if (std::any_of(first, last, [](char c) { return c < '0' || c > '9'; })) return std::nullopt;
        std::from_chars(first, last, v);
        return v;
    };
    const auto y = number(0, 4);
    const auto m = number(5, 2);
    const auto d = number(8, 2);
    if (!y || !m || !d) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{*y},
                                          std::chrono::month{static_cast<unsigned>(*m)},
                                          std::chrono::day{static_cast<unsigned>(*d)}};
    if (!ymd.ok() || *y < 1) return std::nullopt;
    return BusinessDate{*y, *m, *d};
}

BusinessDate require_business_date(std::string_view text, std::string_view field) {
    auto date = parse_business_date(text);
    if (!date) {
        throw DomainError(ErrorCode::InvalidInput, "Invalid " + std::string(field) + ": '" +
                                                       std::string(text) + "' (expected a date yyyy-MM-dd)");
    }
    return *date;
}

BusinessDate business_date_of_epoch_us(std::int64_t epoch_us) {
    std::int64_t secs = epoch_us / 1'000'000;
    if (epoch_us % 1'000'000 < 0) --secs;
    const auto t = static_cast<std::time_t>(secs);
    std::tm tm{};
    localtime_r(&t, &tm);
    return BusinessDate{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

BusinessDate business_today() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return business_date_of_epoch_us(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

BusinessDate oldest_day_with_all_events(BusinessDate today, std::chrono::milliseconds retention) {
    using std::chrono::days;
    const auto whole_days = std::chrono::floor<days>(retention).count();
    const std::chrono::year_month_day ymd{std::chrono::year{today.year},
                                          std::chrono::month{static_cast<unsigned>(today.month)},
                                          std::chrono::day{static_cast<unsigned>(today.day)}};
    const std::chrono::year_month_day oldest{std::chrono::sys_days{ymd} - days{whole_days - 1}};
    return BusinessDate{static_cast<int>(oldest.year()),
                        static_cast<int>(static_cast<unsigned>(oldest.month())),
                        static_cast<int>(static_cast<unsigned>(oldest.day()))};
}

void order_ranking(std::vector<RankingEntry>& entries, std::size_t limit) {
    std::sort(entries.begin(), entries.end(), [](const RankingEntry& a, const RankingEntry& b) {
        if (a.sales_count != b.sales_count) return a.sales_count > b.sales_count;
        return a.product_id < b.product_id;
    });
    if (entries.size() > limit) entries.resize(limit);
}

std::int64_t rank_among(std::int64_t product_id, std::int64_t above,
                        const std::vector<std::int64_t>& tied_ids) {
    const auto smaller = std::count_if(tied_ids.begin(), tied_ids.end(),
                                       [product_id](std::int64_t id) { return id < product_id; });
    return 1 + above + static_cast<std::int64_t>(smaller);
}

int ranking_limit(std::optional<std::int64_t> requested) {
    if (!requested) return kRankingDefaultLimit;
    if (*requested < 1 || *requested > kRankingMaxLimit) {
        throw DomainError(ErrorCode::InvalidInput, "Invalid limit: " + std::to_string(*requested) +
                                                       " (must be between 1 and " +
                                                       std::to_string(kRankingMaxLimit) + ")");
    }
    return static_cast<int>(*requested);
}

std::string_view source_name(RankingSource source) {
    switch (source) {
        case RankingSource::Redis:
            return "redis";
        case RankingSource::Backup:
            return "backup";
        case RankingSource::None:
            break;
    }
    return "none";
}

}  // namespace ec::domain
