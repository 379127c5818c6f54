#pragma once
// Port: the transactional outbox the payment transaction writes (SPEC §6), drained by the relay, and
// the database truth a ranking rebuild starts from. Implemented by infra/postgres/pg_outbox_repository.
//
// Relay rounds and rebuilds exclude each other (a shared/exclusive lock): a rebuild's snapshot of the
// database and its replacement of the Redis day must not interleave with an event being applied, or
// that event would be lost (applied before the replacement) or counted twice.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "domain/ranking.hpp"

namespace ec::app {

struct OutboxEvent {
    std::int64_t id = 0;
    std::string type;
    std::int64_t aggregate_id = 0;
    std::string payload;  // JSON
    int attempts = 0;     // failed attempts so far
};

struct OutboxFailure {
    std::int64_t id = 0;
    std::string error;
};

struct DrainResult {
    std::size_t claimed = 0;
    std::size_t published = 0;
    std::vector<std::int64_t> parked;  // events that reached max attempts in this round
    bool skipped = false;              // a rebuild held the ranking lock; nothing was claimed
};

struct OutboxStats {
    std::int64_t backlog = 0;       // unpublished, not parked
    double oldest_age_seconds = 0;  // of the oldest of those; 0 when none
    std::int64_t parked = 0;
};

// The paid sales of one business day as the database knows them.
struct DaySales {
    std::vector<domain::RankingEntry> totals;  // units per product
    std::vector<std::int64_t> event_ids;       // the outbox events of the orders counted
};

class OutboxRepository {
public:
    // Publishes the claimed events; returns the ones that failed (the others count as published).
    // Throwing aborts the round: nothing is marked, every event stays due.
    using Publish =
        std::function<boost::asio::awaitable<std::vector<OutboxFailure>>(const std::vector<OutboxEvent>&)>;
    using WithDaySales = std::function<boost::asio::awaitable<void>(const DaySales&)>;

    virtual ~OutboxRepository() = default;

    // One round in one transaction: claims up to `limit` due events no other instance holds (SKIP
    // LOCKED), publishes them, marks successes published and failures retried with backoff (parked
    // after the configured attempts). Skipped while a rebuild runs.
    virtual boost::asio::awaitable<DrainResult> drain(int limit, Publish publish) = 0;
    virtual boost::asio::awaitable<OutboxStats> stats() = 0;
    // Reads the day's sales and runs `with` while no relay round can run (waits for running ones).
    virtual boost::asio::awaitable<void> with_day_sales(domain::BusinessDate date, WithDaySales with) = 0;
    // Deletes up to `limit` published events created more than `older_than` ago, the oldest first, in
    // one transaction; returns how many it deleted. Unpublished and parked events are kept.
    virtual boost::asio::awaitable<int> purge_published(std::chrono::milliseconds older_than, int limit) = 0;
};

}  // namespace ec::app
