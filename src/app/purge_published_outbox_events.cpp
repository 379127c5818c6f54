#include "app/purge_published_outbox_events.hpp"

#include "ops/metrics.hpp"

namespace ec::app {

PurgePublishedOutboxEvents::PurgePublishedOutboxEvents(OutboxRepository& outbox,
                                                       ops::MetricsRegistry& metrics,
                                                       std::chrono::milliseconds retention, int batch_size,
                                                       int max_batches)
    : purge_(
          "published outbox events",
          [&outbox, retention](int limit) { return outbox.purge_published(retention, limit); },
          metrics.counter("outbox_events_purged_total",
                          "Published outbox events deleted after outbox.retention"),
          batch_size, max_batches) {}

}  // namespace ec::app
