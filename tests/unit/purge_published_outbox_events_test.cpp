// PurgePublishedOutboxEvents over an in-memory port: it asks for events older than its retention, in
// batches (BatchedPurge, whose loop PurgeExpiredIdempotencyRecordsTest covers), and counts what went.
#include "app/purge_published_outbox_events.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <vector>

#include "ops/metrics.hpp"
#include "support/run_on_strand.hpp"

namespace ec::app {
namespace {

using namespace std::chrono_literals;

class FakeOutbox final : public OutboxRepository {
public:
    std::deque<int> old_batches;  // what each purge call finds (empty: nothing left)
    std::vector<std::chrono::milliseconds> older_than;

    boost::asio::awaitable<int> purge_published(std::chrono::milliseconds age, int limit) override {
        older_than.push_back(age);
        if (old_batches.empty()) co_return 0;
        const int n = std::min(limit, old_batches.front());
        old_batches.pop_front();
        co_return n;
    }
    boost::asio::awaitable<DrainResult> drain(int, Publish) override { throw std::logic_error("unused"); }
    boost::asio::awaitable<OutboxStats> stats() override { throw std::logic_error("unused"); }
    boost::asio::awaitable<void> with_day_sales(domain::BusinessDate, WithDaySales) override {
        throw std::logic_error("unused");
    }
};

TEST(PurgePublishedOutboxEventsTest, DeletesEventsOlderThanTheRetentionInBatchesAndCountsThem) {
    FakeOutbox outbox;
    ops::MetricsRegistry metrics;
    PurgePublishedOutboxEvents purge(outbox, metrics, 720h, 50, 10);
    outbox.old_batches = {50, 50, 3};

    EXPECT_EQ(test::run_to_completion(purge.execute()), 103);
    EXPECT_EQ(outbox.older_than, (std::vector<std::chrono::milliseconds>(3, 720h)));
    const auto found = metrics.actuator_metric("outbox_events_purged_total", {});
    ASSERT_TRUE(found);
    EXPECT_EQ(found->at("measurements").as_array().at(0).as_object().at("value").to_number<double>(), 103);
}

}  // namespace
}  // namespace ec::app
