#include "infra/redis/redis_ranking_store.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdlib>

#include "domain/local_time.hpp"

namespace ec::infra::redis {

using boost::asio::awaitable;

std::string ranking_day_key(domain::BusinessDate date) {
    return "ranking:product:orders:daily:{" + date.compact() + "}";
}

std::string ranking_applied_key(domain::BusinessDate date) {
    return "ranking:product:orders:applied:{" + date.compact() + "}";
}

namespace {

std::string staging_key(const std::string& live) {
    return live + ":rebuild";
}

std::int64_t score_of(const Reply& r) {
    if (r.type == Reply::Type::Integer) return r.integer;
    return std::llround(std::strtod(r.str.c_str(), nullptr));
}

std::int64_t id_of(const Reply& r) {
    return std::strtoll(r.str.c_str(), nullptr, 10);
}

std::int64_t seconds_of(std::chrono::milliseconds ttl) {
    return std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(ttl).count());
}

}  // namespace

RedisRankingStore::RedisRankingStore(RedisClient& redis, std::chrono::milliseconds key_ttl,
                                     std::int64_t stream_max_length)
    : redis_(redis),
      ttl_seconds_(std::to_string(seconds_of(key_ttl))),
      stream_max_length_(std::to_string(stream_max_length)) {}

awaitable<std::vector<domain::RankingEntry>> RedisRankingStore::top(domain::BusinessDate date, int limit) {
    std::vector<std::string> keys{ranking_day_key(date)};
    std::vector<std::string> args{std::to_string(limit)};
    const auto reply = co_await redis_.eval(lua_script("ranking_top"), std::move(keys), std::move(args));
    checked(reply, "ranking_top");
    std::vector<domain::RankingEntry> entries;
    if (reply.elements.size() != 2) co_return entries;
    const auto& top = reply.elements[0].elements;
    const auto& ties = reply.elements[1].elements;
    if (top.empty()) co_return entries;
    const auto last = score_of(top.back());
    // Everything above the last score, then every member tied with it: order_ranking() picks the
    // smaller ids among the ties.
    for (std::size_t i = 0; i + 1 < top.size(); i += 2) {
        const auto score = score_of(top[i + 1]);
        if (score != last) entries.push_back({id_of(top[i]), score});
    }
    for (std::size_t i = 0; i + 1 < ties.size(); i += 2)
        entries.push_back({id_of(ties[i]), score_of(ties[i + 1])});
    domain::order_ranking(entries, static_cast<std::size_t>(limit));
    co_return entries;
}

awaitable<std::optional<app::RankingStore::Position>> RedisRankingStore::position(domain::BusinessDate date,
                                                                                  std::int64_t product_id) {
    std::vector<std::string> keys{ranking_day_key(date)};
    std::vector<std::string> args{std::to_string(product_id)};
    const auto reply = co_await redis_.eval(lua_script("ranking_position"), std::move(keys), std::move(args));
    checked(reply, "ranking_position");
    if (reply.elements.size() != 3) co_return std::nullopt;
    std::vector<std::int64_t> tied;
    for (const auto& member : reply.elements[2].elements) tied.push_back(id_of(member));
    const auto above = reply.elements[1].integer;
    co_return Position{domain::rank_among(product_id, above, tied), score_of(reply.elements[0])};
}

awaitable<bool> RedisRankingStore::apply(const domain::OrderCompleted& event) {
    const auto day = domain::business_date_of_epoch_us(event.paid_at_us);
    std::vector<std::string> keys{ranking_day_key(day), ranking_applied_key(day)};
    std::vector<std::string> args{std::to_string(event.event_id), ttl_seconds_};
    args.reserve(2 + 2 * event.items.size());
    for (const auto& line : event.items) {
        args.push_back(std::to_string(line.product_id));
        args.push_back(std::to_string(line.quantity));
    }
    const auto reply = co_await redis_.eval(lua_script("ranking_apply"), std::move(keys), std::move(args));
    checked(reply, "ranking_apply");
    co_return reply.integer == 1;
}

awaitable<bool> RedisRankingStore::append_completed(const domain::OrderCompleted& event) {
    const auto day = domain::business_date_of_epoch_us(event.paid_at_us);
    boost::json::array items;
    for (const auto& line : event.items) {
        items.push_back(boost::json::object{{"productId", line.product_id}, {"quantity", line.quantity}});
    }
    std::vector<std::string> keys{kOrderCompletedStream,
                                  std::string("{") + kOrderCompletedStream + "}:applied:" + day.compact()};
    std::vector<std::string> args{std::to_string(event.event_id),
                                  ttl_seconds_,
                                  stream_max_length_,
                                  "eventId",
                                  std::to_string(event.event_id),
                                  "orderId",
                                  std::to_string(event.order_id),
                                  "userId",
                                  std::to_string(event.user_id),
                                  "totalAmount",
                                  std::to_string(event.total_amount),
                                  "completedAt",
                                  domain::format_local_datetime(event.paid_at_us),
                                  "items",
                                  boost::json::serialize(items)};
    const auto reply =
        co_await redis_.eval(lua_script("order_stream_append"), std::move(keys), std::move(args));
    checked(reply, "order_stream_append");
    co_return reply.integer == 1;
}

awaitable<void> RedisRankingStore::replace_day(domain::BusinessDate date,
                                               const std::vector<domain::RankingEntry>& totals,
                                               const std::vector<std::int64_t>& event_ids) {
    // Staged in chunks (a day can hold millions of events), then swapped in by one script.
    const auto live = ranking_day_key(date);
    const auto applied = ranking_applied_key(date);
    const auto staged = staging_key(live);
    const auto staged_applied = staging_key(applied);
    std::vector<std::string> del{"DEL", staged, staged_applied};
    const auto cleared = co_await redis_.command(std::move(del));
    checked(cleared, "DEL");
    constexpr std::size_t kChunk = 1000;
    for (std::size_t i = 0; i < totals.size(); i += kChunk) {
        std::vector<std::string> zadd{"ZADD", staged};
        for (std::size_t j = i; j < std::min(totals.size(), i + kChunk); ++j) {
            zadd.push_back(std::to_string(totals[j].sales_count));
            zadd.push_back(std::to_string(totals[j].product_id));
        }
        const auto r = co_await redis_.command(std::move(zadd));
        checked(r, "ZADD");
    }
    for (std::size_t i = 0; i < event_ids.size(); i += kChunk) {
        std::vector<std::string> sadd{"SADD", staged_applied};
        for (std::size_t j = i; j < std::min(event_ids.size(), i + kChunk); ++j) {
            sadd.push_back(std::to_string(event_ids[j]));
        }
        const auto r = co_await redis_.command(std::move(sadd));
        checked(r, "SADD");
    }
    std::vector<std::string> keys{live, applied, staged, staged_applied};
    std::vector<std::string> args{ttl_seconds_};
    const auto swapped = co_await redis_.eval(lua_script("ranking_swap"), std::move(keys), std::move(args));
    checked(swapped, "ranking_swap");
    co_return;
}

}  // namespace ec::infra::redis
