#include "infra/postgres/pg_outbox_repository.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "infra/postgres/pg_array.hpp"
#include "infra/postgres/pg_pool.hpp"
#include "infra/postgres/wal_flush_barrier.hpp"

namespace ec::infra::pg {

using boost::asio::awaitable;

namespace {

// The relay's other statements on the outbox are planned at each execution (query_replanned): the
// table grows from empty, and a cached plan made while it was small scanned all of it in every relay
// round (claims: 543 sequential scans of up to 9,500 rows; marks: 790 scans, 11.2 M rows, in one
// order + pay bench run). The claim itself is outbox_claim() (V013), which walks the unpublished
// index in order whatever the statistics say.
// Relay rounds hold this advisory lock shared, a rebuild holds it exclusive (see outbox_repository.hpp).
constexpr std::int64_t kRoundLock = 7305482514186395002;
constexpr const char* kClaim =
    "SELECT id, event_type, aggregate_id, payload, attempts FROM outbox_claim($1, $2)";
const std::string kRebuildLock = "SELECT pg_advisory_xact_lock(" + std::to_string(kRoundLock) + ")";

}  // namespace

awaitable<app::DrainResult> PgOutboxRepository::drain(int limit, Publish publish) {
    co_return co_await pool_->transaction([&](PgConnection& conn) -> awaitable<app::DrainResult> {
        app::DrainResult result;
        const auto r = co_await conn.query(kClaim, limit, kRoundLock);
        if (r.rows() == 0) co_return result;
        // Marking events published need not wait for its WAL flush: if a database crash loses the
        // mark, the events are claimed and published again, and the Redis scripts apply each event
        // id once (ranking_apply.lua, order_stream_append.lua), so nothing is counted twice. (Set
        // only when there is something to mark: an idle poll costs no extra round trip.)
        static const std::string kNoFlushWait = "SELECT " + std::string(kCommitWithoutFlushWait);
        co_await conn.execute(kNoFlushWait);
        std::vector<app::OutboxEvent> events;
        events.reserve(static_cast<std::size_t>(r.rows()));
        for (int i = 0; i < r.rows(); ++i) {
            events.push_back(app::OutboxEvent{r.int64(i, 0), r.string(i, 1), r.int64(i, 2), r.string(i, 3),
                                              static_cast<int>(r.int64(i, 4))});
        }
        result.claimed = events.size();
        // Events of completions that commit through the flush barrier may be visible before they are
        // durable: none reaches Redis before the WAL is flushed past it.
        if (barrier_) co_await barrier_->wait();
        const auto failures = co_await publish(events);

        std::vector<std::int64_t> published;
        for (const auto& e : events) {
            const bool failed = std::any_of(failures.begin(), failures.end(),
                                            [&](const app::OutboxFailure& f) { return f.id == e.id; });
            if (!failed) published.push_back(e.id);
        }
        if (!published.empty()) {
            co_await conn.query_replanned(
                "UPDATE outbox_events SET published_at = now() WHERE id = ANY($1::bigint[])",
                array_literal(published));
        }
        result.published = published.size();
        const double backoff_s = static_cast<double>(retry_backoff_.count()) / 1000.0;
        for (const auto& f : failures) {
            const auto parked = co_await conn.query_replanned(
                "UPDATE outbox_events SET attempts = attempts + 1, last_error = left($2, 1000), "
                "       next_attempt_at = now() + make_interval(secs => least($3::float8 * 2 ^ attempts, "
                "300)), "
                "       parked = attempts + 1 >= $4 "
                " WHERE id = $1 RETURNING parked",
                f.id, f.error, std::to_string(backoff_s), max_attempts_);
            if (parked.rows() == 1 && parked.boolean(0, 0)) result.parked.push_back(f.id);
        }
        co_return result;
    });
}

awaitable<app::OutboxStats> PgOutboxRepository::stats() {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query_replanned(
        "SELECT count(*), COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8, "
        "       (SELECT count(*) FROM outbox_events WHERE parked) "
        "  FROM outbox_events WHERE published_at IS NULL AND NOT parked");
    co_return app::OutboxStats{r.int64(0, 0), std::strtod(r.string(0, 1).c_str(), nullptr), r.int64(0, 2)};
}

awaitable<void> PgOutboxRepository::with_day_sales(domain::BusinessDate date, WithDaySales with) {
    co_await pool_->transaction([&](PgConnection& conn) -> awaitable<void> {
        // Waits for running relay rounds and keeps new ones out until the commit, so the snapshot
        // below and the replacement `with` makes cannot interleave with an event being applied.
        co_await conn.execute(kRebuildLock);
        // One statement, one snapshot: the units of the day's paid orders and their events. The day
        // is that of the business zone (the same one the relay files an event under). Paid orders
        // are found through their events, created at the order's paid_at (V022).
        const auto r = co_await conn.query(
            "WITH day AS (SELECT ($1::date)::timestamp AT TIME ZONE $2 AS t0,"
            "                    ($1::date + 1)::timestamp AT TIME ZONE $2 AS t1),"
            "paid AS ("
            "  SELECT o.id, e.id AS event_id FROM day, outbox_events e JOIN orders o ON o.id = e.aggregate_id"
            "   WHERE e.event_type = 'OrderCompleted' AND e.created_at >= day.t0 AND e.created_at < day.t1"
            "     AND o.status = 'COMPLETED' AND o.paid_at >= day.t0 AND o.paid_at < day.t1)"
            "SELECT 'P', i.product_id, sum(i.quantity)::bigint FROM paid JOIN order_items i ON i.order_id = "
            "paid.id"
            " GROUP BY i.product_id "
            "UNION ALL "
            "SELECT 'E', paid.event_id, 0 FROM paid",
            date.iso(), time_zone_);
        app::DaySales sales;
        for (int i = 0; i < r.rows(); ++i) {
            if (r.text(i, 0) == "P") {
                sales.totals.push_back(domain::RankingEntry{r.int64(i, 1), r.int64(i, 2)});
            } else {
                sales.event_ids.push_back(r.int64(i, 1));
            }
        }
        // Nor does a paid order that is committed but not yet durable (flush barrier).
        if (barrier_) co_await barrier_->wait();
        co_await with(sales);
        co_return;
    });
}

awaitable<int> PgOutboxRepository::purge_published(std::chrono::milliseconds older_than, int limit) {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query(
        "SELECT purge_published_outbox_events(now() - $1 * interval '1 millisecond', $2)",
        static_cast<std::int64_t>(older_than.count()), limit);
    co_return static_cast<int>(r.int64(0, 0));
}

}  // namespace ec::infra::pg
