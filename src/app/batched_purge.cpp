#include "app/batched_purge.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "ops/metrics.hpp"

namespace ec::app {

BatchedPurge::BatchedPurge(std::string what, DeleteBatch delete_batch, ops::Counter& purged, int batch_size,
                           int max_batches)
    : what_(std::move(what)),
      delete_batch_(std::move(delete_batch)),
      purged_(purged),
      batch_size_(batch_size),
      max_batches_(max_batches) {}

boost::asio::awaitable<std::int64_t> BatchedPurge::execute() {
    std::int64_t total = 0;
    for (int batch = 0; batch < max_batches_; ++batch) {
        const int deleted = co_await delete_batch_(batch_size_);
        total += deleted;
        purged_.increment(static_cast<double>(deleted));
        if (deleted < batch_size_) break;
    }
    if (total > 0) spdlog::info("purge: {} {} deleted", total, what_);
    co_return total;
}

}  // namespace ec::app
