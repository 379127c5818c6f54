#pragma once
// Helpers of the ranking end-to-end tests: the database truth of the ranking (units of COMPLETED
// order lines per business day), what Redis holds for the same products, and waiting for the relay.
#include <map>
#include <thread>

#include "e2e/commerce_support.hpp"
#include "e2e/e2e_support.hpp"
#include "support/redis_admin.hpp"

namespace ec::e2e {

// "yyyyMMdd" of a business day -> product -> units.
using DayUnits = std::map<std::string, std::map<std::int64_t, std::int64_t>>;

inline std::string product_list(const std::vector<std::int64_t>& ids) {
    std::string out = "{";
    for (const auto id : ids) out += (out.size() > 1 ? "," : "") + std::to_string(id);
    return out + "}";
}

// What PostgreSQL says each product sold per business day (Asia/Seoul), paid orders only.
inline DayUnits db_units(Pg& pg, const std::vector<std::int64_t>& products) {
    DayUnits out;
    const auto rows = pg.scalar(
        "SELECT COALESCE(string_agg(d || ':' || p || ':' || u, ','), '') FROM ("
        "  SELECT to_char(o.paid_at AT TIME ZONE 'Asia/Seoul', 'YYYYMMDD') d, i.product_id p, "
        "sum(i.quantity) u"
        "    FROM orders o JOIN order_items i ON i.order_id = o.id"
        "   WHERE o.status = 'COMPLETED' AND i.product_id = ANY($1::bigint[]) GROUP BY 1, 2) t",
        {product_list(products)});
    std::string s = rows.value_or("");
    std::size_t pos = 0;
    while (pos < s.size()) {
        auto end = s.find(',', pos);
        if (end == std::string::npos) end = s.size();
        const auto item = s.substr(pos, end - pos);
        const auto c1 = item.find(':');
        const auto c2 = item.find(':', c1 + 1);
        out[item.substr(0, c1)][std::stoll(item.substr(c1 + 1, c2 - c1 - 1))] =
            std::stoll(item.substr(c2 + 1));
        pos = end + 1;
    }
    return out;
}

inline std::string day_key(const std::string& yyyymmdd) {
    return "ranking:product:orders:daily:{" + yyyymmdd + "}";
}

// The same shape read from Redis for the days and products of `expected`.
inline DayUnits redis_units(RedisAdmin& redis, const DayUnits& expected,
                            const std::vector<std::int64_t>& products) {
    DayUnits out;
    for (const auto& [day, _] : expected) {
        for (const auto p : products) {
            if (auto score = redis.zscore(day_key(day), std::to_string(p))) out[day][p] = *score;
        }
    }
    return out;
}

inline std::int64_t unpublished_events_of(Pg& pg, const std::vector<std::int64_t>& products) {
    return pg.int64(
        "SELECT count(*) FROM outbox_events e JOIN orders o ON o.id = e.aggregate_id "
        " WHERE e.published_at IS NULL AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id "
        "   AND i.product_id = ANY($1::bigint[]))",
        {product_list(products)});
}

// Waits until every outbox event of orders containing `products` is published.
inline bool wait_published(Pg& pg, const std::vector<std::int64_t>& products,
                           std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (unpublished_events_of(pg, products) == 0) return true;
        std::this_thread::sleep_for(50ms);
    }
    return unpublished_events_of(pg, products) == 0;
}

// orderId -> how many times it appears in the order-completed stream.
inline std::map<std::int64_t, int> stream_order_counts(RedisAdmin& redis) {
    std::map<std::int64_t, int> counts;
    const auto entries = redis.command({"XRANGE", "order-completed", "-", "+"});
    for (const auto& entry : entries.elements) {
        const auto& fields = entry.elements.at(1).elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            if (fields[i].str == "orderId") ++counts[std::stoll(fields[i + 1].str)];
        }
    }
    return counts;
}

}  // namespace ec::e2e
