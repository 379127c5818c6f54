#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>

#include "app/batched_purge.hpp"
#include "app/idempotency_records.hpp"

namespace ec::ops {
class MetricsRegistry;
}  // namespace ec::ops

namespace ec::app {

// Deletes the idempotency records that have expired (a day after they were written), so the table
// holds about a day of charges and payments instead of every one ever made. Run periodically; one run
// works in batches (BatchedPurge).
class PurgeExpiredIdempotencyRecords {
public:
    PurgeExpiredIdempotencyRecords(IdempotencyRecords& records, ops::MetricsRegistry& metrics, int batch_size,
                                   int max_batches);
    // Returns how many records were deleted.
    boost::asio::awaitable<std::int64_t> execute() { return purge_.execute(); }

private:
    BatchedPurge purge_;
};

}  // namespace ec::app
