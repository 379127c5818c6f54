#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>

#include "app/idempotency_records.hpp"

namespace ec::ops {
class MetricsRegistry;
class Counter;
}  // namespace ec::ops

namespace ec::app {

// Deletes the idempotency records that have expired (a day after they were written), so the table
// holds about a day of charges and payments instead of every one ever made. Run periodically.
//
// One run deletes batches of `batch_size` (each its own short transaction, so no long lock or
// snapshot is held) until a batch comes back short, or `max_batches` were deleted: a backlog (the
// first run after an upgrade) is worked off over several runs instead of one long one.
class PurgeExpiredIdempotencyRecords {
public:
    PurgeExpiredIdempotencyRecords(IdempotencyRecords& records, ops::MetricsRegistry& metrics, int batch_size,
                                   int max_batches);
    // Returns how many records were deleted.
    boost::asio::awaitable<std::int64_t> execute();

private:
    IdempotencyRecords& records_;
    ops::Counter& purged_;
    int batch_size_;
    int max_batches_;
};

}  // namespace ec::app
