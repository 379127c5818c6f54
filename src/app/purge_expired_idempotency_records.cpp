#include "app/purge_expired_idempotency_records.hpp"

#include "ops/metrics.hpp"

namespace ec::app {

PurgeExpiredIdempotencyRecords::PurgeExpiredIdempotencyRecords(IdempotencyRecords& records,
                                                               ops::MetricsRegistry& metrics, int batch_size,
                                                               int max_batches)
    : purge_(
          "expired idempotency records", [&records](int limit) { return records.purge_expired(limit); },
          metrics.counter("idempotency_records_purged_total",
                          "Expired idempotency records deleted (charges and payments)"),
          batch_size, max_batches) {}

}  // namespace ec::app
