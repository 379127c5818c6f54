// RecoverStalePayments over an in-memory repository and a hand-moved clock: which payment records
// each sweep reads (a window before now, or all of them) and when that window is allowed to shrink.
#include "app/recover_stale_payments.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <optional>
#include <stdexcept>
#include <vector>

#include "support/run_on_strand.hpp"

namespace ec::app {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using Clock = RecoverStalePayments::Clock;

// Records every recover_stale call; answers from a queue of batches (empty: nothing stale), or
// throws once when told to (the database is down).
class FakePayments final : public PaymentRepository {
public:
    struct Call {
        milliseconds older_than;
        int limit;
        std::optional<milliseconds> lookback;
    };
    std::vector<Call> calls;
    std::deque<std::vector<std::int64_t>> batches;
    bool fail_next = false;

    boost::asio::awaitable<ReserveOutcome> reserve(std::int64_t, std::int64_t, const std::string&) override {
        throw std::logic_error("not used");
    }
    boost::asio::awaitable<std::optional<domain::PaymentReceipt>> complete(std::int64_t, std::int64_t,
                                                                           const std::string&,
                                                                           const ReserveOutcome&,
                                                                           const std::string&) override {
        throw std::logic_error("not used");
    }
    boost::asio::awaitable<void> compensate(std::int64_t, const std::string&, const std::string&) override {
        throw std::logic_error("not used");
    }
    boost::asio::awaitable<std::vector<std::int64_t>> recover_stale(
        milliseconds older_than, int limit, std::optional<milliseconds> lookback) override {
        calls.push_back(Call{older_than, limit, lookback});
        if (fail_next) {
            fail_next = false;
            throw std::runtime_error("database down");
        }
        if (batches.empty()) co_return std::vector<std::int64_t>{};
        auto batch = std::move(batches.front());
        batches.pop_front();
        co_return batch;
    }
};

class NoProducts final : public ProductRepository {
public:
    boost::asio::awaitable<std::vector<domain::Product>> all() override {
        co_return std::vector<domain::Product>{};
    }
    boost::asio::awaitable<std::vector<domain::TopProduct>> top_selling(int, int,
                                                                        const std::string&) override {
        co_return std::vector<domain::TopProduct>{};
    }
};

class RecoverStalePaymentsTest : public ::testing::Test {
protected:
    std::size_t sweep() { return test::run_to_completion(recover.execute()); }
    std::optional<milliseconds> last_lookback() const { return payments.calls.back().lookback; }

    FakePayments payments;
    NoProducts products;
    ProductCatalog catalog{products, 0ms};
    Clock::time_point now = Clock::time_point{} + 1000h;
    RecoverStalePayments recover{payments, catalog, 2min, 1h, [this] { return now; }};
};

TEST_F(RecoverStalePaymentsTest, TheFirstSweepReadsEveryRecordThenOnlyAWindowBeforeNow) {
    sweep();
    ASSERT_EQ(payments.calls.size(), 1u);
    EXPECT_FALSE(last_lookback()) << "the first sweep after start-up reads everything";
    EXPECT_EQ(payments.calls[0].older_than, 2min);

    now += 30s;
    sweep();
    // 30 s since the last sweep began + stale-after + the margin for late commits
    EXPECT_EQ(last_lookback(), 30s + 2min + RecoverStalePayments::kWindowMargin);
}

TEST_F(RecoverStalePaymentsTest, AFailedSweepKeepsTheWindowGrowingFromTheLastCompletedOne) {
    sweep();
    now += 30s;
    payments.fail_next = true;
    EXPECT_THROW(sweep(), std::runtime_error);
    EXPECT_EQ(last_lookback(), 30s + 2min + RecoverStalePayments::kWindowMargin);

    now += 30s;
    sweep();
    EXPECT_EQ(last_lookback(), 60s + 2min + RecoverStalePayments::kWindowMargin)
        << "the failed sweep covered nothing: the window still starts at the first one";
    now += 30s;
    sweep();
    EXPECT_EQ(last_lookback(), 30s + 2min + RecoverStalePayments::kWindowMargin);
}

TEST_F(RecoverStalePaymentsTest, AFailedFirstSweepIsRepeatedInFull) {
    payments.fail_next = true;
    EXPECT_THROW(sweep(), std::runtime_error);
    now += 30s;
    sweep();
    EXPECT_FALSE(last_lookback());
}

TEST_F(RecoverStalePaymentsTest, EveryFullIntervalASweepReadsEverythingAgain) {
    sweep();
    for (int i = 0; i < 119; ++i) {  // 119 × 30 s = 59.5 min
        now += 30s;
        sweep();
        ASSERT_TRUE(last_lookback()) << "sweep " << i;
    }
    now += 30s;  // one hour since the full sweep began
    sweep();
    EXPECT_FALSE(last_lookback());
    now += 30s;
    sweep();
    EXPECT_EQ(last_lookback(), 30s + 2min + RecoverStalePayments::kWindowMargin);
}

TEST_F(RecoverStalePaymentsTest, ASweepGoesOnWhileBatchesComeBackFullAndCountsEveryRollback) {
    std::vector<std::int64_t> full(100);
    for (int i = 0; i < 100; ++i) full[static_cast<std::size_t>(i)] = i + 1;
    payments.batches = {full, full, {7, 8, 9}};
    EXPECT_EQ(sweep(), 203u);
    ASSERT_EQ(payments.calls.size(), 3u);
    for (const auto& c : payments.calls) {
        EXPECT_EQ(c.limit, 100);
        EXPECT_FALSE(c.lookback) << "every batch of one sweep reads the same records";
    }
}

}  // namespace
}  // namespace ec::app
