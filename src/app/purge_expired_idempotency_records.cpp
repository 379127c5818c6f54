#include "app/purge_expired_idempotency_records.hpp"

#include <spdlog/spdlog.h>

#include "ops/metrics.hpp"

namespace ec::app {

PurgeExpiredIdempotencyRecords::PurgeExpiredIdempotencyRecords(IdempotencyRecords& records,
                                                               ops::MetricsRegistry& metrics, int batch_size,
                                                               int max_batches)
    : records_(records),
      purged_(metrics.counter("idempotency_records_purged_total",
                              "Expired idempotency records deleted (charges and payments)")),
      batch_size_(batch_size),
      max_batches_(max_batches) {}

boost::asio::awaitable<std::int64_t> PurgeExpiredIdempotencyRecords::execute() {
    std::int64_t total = 0;
    for (int batch = 0; batch < max_batches_; ++batch) {
        const int deleted = co_await records_.purge_expired(batch_size_);
        total += deleted;
        purged_.increment(static_cast<double>(deleted));
        if (deleted < batch_size_) break;
    }
    if (total > 0) spdlog::info("idempotency records: {} expired records deleted", total);
    co_return total;
}

}  // namespace ec::app
