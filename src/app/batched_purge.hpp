#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <string>

namespace ec::ops {
class Counter;
}  // namespace ec::ops

namespace ec::app {

// The loop every purge of old rows shares. One run deletes batches of `batch_size` (each its own short
// transaction, so no long lock or snapshot is held) until a batch comes back short, or `max_batches`
// were deleted: a backlog (the first run after an upgrade) is worked off over several runs instead of
// one long one. Each batch is counted in `purged` as soon as it is deleted.
class BatchedPurge {
public:
    // Deletes up to `limit` rows in one transaction; returns how many it deleted.
    using DeleteBatch = std::function<boost::asio::awaitable<int>(int limit)>;

    // `what` names the rows in the log line of a run that deleted some ("expired idempotency records").
    BatchedPurge(std::string what, DeleteBatch delete_batch, ops::Counter& purged, int batch_size,
                 int max_batches);
    // Returns how many rows were deleted.
    boost::asio::awaitable<std::int64_t> execute();

private:
    std::string what_;
    DeleteBatch delete_batch_;
    ops::Counter& purged_;
    int batch_size_;
    int max_batches_;
};

}  // namespace ec::app
