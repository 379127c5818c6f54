#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>

#include "app/batched_purge.hpp"
#include "app/outbox_repository.hpp"

namespace ec::ops {
class MetricsRegistry;
}  // namespace ec::ops

namespace ec::app {

// Deletes the outbox events that were published more than `retention` ago (outbox.retention), so the
// table holds the events of that window instead of one per order ever paid. Run periodically; one run
// works in batches (BatchedPurge).
class PurgePublishedOutboxEvents {
public:
    PurgePublishedOutboxEvents(OutboxRepository& outbox, ops::MetricsRegistry& metrics,
                               std::chrono::milliseconds retention, int batch_size, int max_batches);
    // Returns how many events were deleted.
    boost::asio::awaitable<std::int64_t> execute() { return purge_.execute(); }

private:
    BatchedPurge purge_;
};

}  // namespace ec::app
