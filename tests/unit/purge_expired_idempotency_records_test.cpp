// PurgeExpiredIdempotencyRecords over an in-memory port: one run deletes batches until one comes back
// short or the run's limit of batches is reached, and counts what it deleted.
#include "app/purge_expired_idempotency_records.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <vector>

#include "ops/metrics.hpp"
#include "support/run_on_strand.hpp"

namespace ec::app {
namespace {

// Answers each purge_expired() call from a queue of batch sizes (empty: nothing left), never more
// than the limit asked for; the call numbered `fail_at` (from 1) throws (the database is down).
class FakeRecords final : public IdempotencyRecords {
public:
    std::deque<int> expired_batches;
    std::vector<int> limits;
    std::size_t fail_at = 0;

    boost::asio::awaitable<int> purge_expired(int limit) override {
        limits.push_back(limit);
        if (limits.size() == fail_at) throw std::runtime_error("database down");
        if (expired_batches.empty()) co_return 0;
        const int n = std::min(limit, expired_batches.front());
        expired_batches.pop_front();
        co_return n;
    }
};

class PurgeExpiredIdempotencyRecordsTest : public ::testing::Test {
protected:
    std::int64_t run() { return test::run_to_completion(purge.execute()); }
    double purged_total() const {
        const auto found = metrics.actuator_metric("idempotency_records_purged_total", {});
        if (!found) return -1;
        return found->at("measurements").as_array().at(0).as_object().at("value").to_number<double>();
    }

    FakeRecords records;
    ops::MetricsRegistry metrics;
    PurgeExpiredIdempotencyRecords purge{records, metrics, 100, 3};
};

TEST_F(PurgeExpiredIdempotencyRecordsTest, DeletesBatchesUntilOneComesBackShort) {
    records.expired_batches = {100, 100, 42};
    EXPECT_EQ(run(), 242);
    EXPECT_EQ(records.limits, (std::vector<int>{100, 100, 100}));
    EXPECT_EQ(purged_total(), 242);
}

TEST_F(PurgeExpiredIdempotencyRecordsTest, AnEmptyTableCostsOneCall) {
    EXPECT_EQ(run(), 0);
    EXPECT_EQ(records.limits.size(), 1u);
    EXPECT_EQ(purged_total(), 0);
}

TEST_F(PurgeExpiredIdempotencyRecordsTest, ABacklogIsWorkedOffOverSeveralRuns) {
    records.expired_batches = {100, 100, 100, 100, 100, 7};
    EXPECT_EQ(run(), 300) << "one run deletes at most max_batches batches";
    EXPECT_EQ(records.limits.size(), 3u);
    EXPECT_EQ(run(), 207);
    EXPECT_EQ(records.limits.size(), 6u);
    EXPECT_EQ(purged_total(), 507);
}

TEST_F(PurgeExpiredIdempotencyRecordsTest, AFailureEndsTheRunAndKeepsWhatWasCounted) {
    records.expired_batches = {100, 100, 100};
    records.fail_at = 2;
    EXPECT_THROW(run(), std::runtime_error);
    EXPECT_EQ(records.limits.size(), 2u);
    EXPECT_EQ(purged_total(), 100) << "the first batch was deleted (its own transaction) and is counted";
    EXPECT_EQ(run(), 200) << "the next run goes on";
}

}  // namespace
}  // namespace ec::app
