// GetRanking's choice of source (Redis, then the backup, then nothing) and its read cache, and the
// product catalogue's two kinds of snapshot, with in-memory fakes of the ports.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "app/errors.hpp"
#include "app/get_ranking.hpp"
#include "ops/metrics.hpp"
#include "support/run_on_strand.hpp"

namespace ec::app {
namespace {

using boost::asio::awaitable;

class FakeStore : public RankingStore {
public:
    std::vector<domain::RankingEntry> day;
    bool down = false;
    int top_calls = 0;

    std::chrono::milliseconds delay{0};  // how long a top() read takes

    awaitable<std::vector<domain::RankingEntry>> top(domain::BusinessDate, int limit) override {
        ++top_calls;
        if (delay.count() > 0) {
            boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
            co_await timer.async_wait(boost::asio::use_awaitable);
        }
        if (down) throw DependencyUnavailable("redis down");
        auto entries = day;
        domain::order_ranking(entries, static_cast<std::size_t>(limit));
        co_return entries;
    }
    awaitable<std::optional<Position>> position(domain::BusinessDate, std::int64_t) override {
        if (down) throw DependencyUnavailable("redis down");
        co_return std::nullopt;
    }
    awaitable<bool> apply(const domain::OrderCompleted&) override { co_return true; }
    awaitable<bool> append_completed(const domain::OrderCompleted&) override { co_return true; }
    awaitable<void> replace_day(domain::BusinessDate, const std::vector<domain::RankingEntry>&,
                                const std::vector<std::int64_t>&) override {
        co_return;
    }
};

class FakeBackup : public RankingBackupRepository {
public:
    std::vector<domain::RankedProduct> rows;
    bool down = false;
    awaitable<std::vector<domain::RankedProduct>> load(domain::BusinessDate, int limit) override {
        if (down) throw DependencyUnavailable("postgres down");
        auto out = rows;
        if (out.size() > static_cast<std::size_t>(limit)) out.resize(static_cast<std::size_t>(limit));
        co_return out;
    }
    awaitable<bool> replace(domain::BusinessDate, const std::vector<domain::RankedProduct>&) override {
        co_return true;
    }
};

class FakeProducts : public ProductRepository {
public:
    int all_calls = 0;  // catalogue loads, i.e. database queries
    std::int32_t stock = 10;

    awaitable<std::vector<domain::Product>> all() override {
        ++all_calls;
        std::vector<domain::Product> out;
        for (std::int64_t id = 1; id <= 3; ++id) {
            domain::Product p;
            p.id = id;
            p.name = "P" + std::to_string(id);
            p.stock = stock;
            out.push_back(p);
        }
        co_return out;
    }
    awaitable<std::vector<domain::TopProduct>> top_selling(int, int, const std::string&) override {
        co_return std::vector<domain::TopProduct>{};
    }
};

template <class T>
T run(awaitable<T> task) {
    return test::run_to_completion(std::move(task));
}

// Three top() calls at once; the first entry's sales count of each answer, sorted.
std::vector<std::int64_t> first_counts_of_three_concurrent_reads(GetRanking& ranking,
                                                                 domain::BusinessDate day) {
    boost::asio::io_context ioc;
    std::vector<std::future<RankingAnswer>> answers;
    for (int i = 0; i < 3; ++i)
        answers.push_back(boost::asio::co_spawn(ioc, ranking.top(day, 10), boost::asio::use_future));
    ioc.run();
    std::vector<std::int64_t> counts;
    for (auto& a : answers) counts.push_back(a.get().rankings->at(0).sales_count);
    std::sort(counts.begin(), counts.end());
    return counts;
}

class GetRankingTest : public ::testing::Test {
protected:
    FakeStore store;
    FakeBackup backup;
    FakeProducts products;
    ProductCatalog catalog{products, std::chrono::seconds(60)};
    ops::MetricsRegistry metrics;
    const domain::BusinessDate day{2026, 11, 25};
};

TEST_F(GetRankingTest, RedisAnswersWithCatalogueNamesAndTheUnknownPlaceholder) {
    store.day = {{2, 5}, {9, 5}, {1, 7}};
    GetRanking ranking(store, backup, catalog, metrics, std::chrono::milliseconds{0});
    const auto a = run(ranking.top(day, 10));
    EXPECT_EQ(a.source, domain::RankingSource::Redis);
    ASSERT_EQ(a.rankings->size(), 3U);
    EXPECT_EQ(a.rankings->at(0).product_name, "P1");
    EXPECT_EQ(a.rankings->at(1).product_id, 2);
    EXPECT_EQ(a.rankings->at(2).product_name, kUnknownProductName);
    EXPECT_EQ(a.rankings->at(2).rank, 3);
}

TEST_F(GetRankingTest, RedisDownOrEmptyFallsBackToTheBackupThenToNothing) {
    backup.rows = {{1, 3, "P3", 40}};
    GetRanking ranking(store, backup, catalog, metrics, std::chrono::milliseconds{0});
    EXPECT_EQ(run(ranking.top(day, 10)).source, domain::RankingSource::Backup);  // empty day
    store.down = true;
    const auto a = run(ranking.top(day, 10));
    EXPECT_EQ(a.source, domain::RankingSource::Backup);
    ASSERT_EQ(a.rankings->size(), 1U);
    EXPECT_EQ(a.rankings->at(0).sales_count, 40);
    const auto p = run(ranking.product(3, day));
    EXPECT_EQ(p.source, domain::RankingSource::Backup);
    EXPECT_EQ(p.rank, 1);
    backup.down = true;  // the backup's database is down too: still an answer, never an exception
    const auto none = run(ranking.top(day, 10));
    EXPECT_EQ(none.source, domain::RankingSource::None);
    EXPECT_TRUE(none.rankings->empty());
    EXPECT_EQ(run(ranking.product(3, day)).rank, -1);
}

TEST_F(GetRankingTest, AnswersAreReusedUntilTheRelayChangesTheRanking) {
    store.day = {{1, 7}};
    GetRanking ranking(store, backup, catalog, metrics, std::chrono::seconds(60));
    run(ranking.top(day, 10));
    store.day = {{1, 8}};
    EXPECT_EQ(run(ranking.top(day, 10)).rankings->at(0).sales_count, 7);  // cached
    EXPECT_EQ(store.top_calls, 1);
    EXPECT_EQ(run(ranking.top(day, 5)).rankings->at(0).sales_count, 8);  // another limit, another entry
    ranking.invalidate();
    EXPECT_EQ(run(ranking.top(day, 10)).rankings->at(0).sales_count, 8);
    EXPECT_EQ(store.top_calls, 3);
    // Fallback answers are not cached: Redis coming back is seen at once.
    store.down = true;
    ranking.invalidate();
    EXPECT_EQ(run(ranking.top(day, 10)).source, domain::RankingSource::None);
    store.down = false;
    EXPECT_EQ(run(ranking.top(day, 10)).source, domain::RankingSource::Redis);
}

TEST_F(GetRankingTest, AnExpiredAnswerIsReReadByOneCallerWhileTheOthersGetThePreviousOne) {
    store.day = {{1, 7}};
    GetRanking ranking(store, backup, catalog, metrics, std::chrono::milliseconds(1));
    run(ranking.top(day, 10));
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    store.day = {{1, 8}};
    store.delay = std::chrono::milliseconds(20);
    // Three callers at once after the expiry: one reads Redis (20 ms), two get the previous answer.
    EXPECT_EQ(first_counts_of_three_concurrent_reads(ranking, day), (std::vector<std::int64_t>{7, 7, 8}));
    EXPECT_EQ(store.top_calls, 2);
}

TEST_F(GetRankingTest, AFailedReReadDropsTheAnswerSoTheOutageShowsAtOnce) {
    store.day = {{1, 7}};
    GetRanking ranking(store, backup, catalog, metrics, std::chrono::milliseconds(1));
    run(ranking.top(day, 10));
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    store.down = true;
    EXPECT_EQ(run(ranking.top(day, 10)).source, domain::RankingSource::None);
    EXPECT_EQ(run(ranking.top(day, 10)).source, domain::RankingSource::None);  // not the stale answer
    EXPECT_EQ(store.top_calls, 3);
}

TEST_F(GetRankingTest, ARelayChangeIsReReadByOneCallerWhileTheOthersGetThePreviousAnswer) {
    store.day = {{1, 7}};
    GetRanking ranking(store, backup, catalog, metrics, std::chrono::seconds(60));
    run(ranking.top(day, 10));
    store.day = {{1, 8}};
    store.delay = std::chrono::milliseconds(20);
    ranking.invalidate();
    EXPECT_EQ(first_counts_of_three_concurrent_reads(ranking, day), (std::vector<std::int64_t>{7, 7, 8}));
    EXPECT_EQ(store.top_calls, 2);
    // The refreshed answer is kept; a change that raced with the read is re-read by the next caller.
    EXPECT_EQ(run(ranking.top(day, 10)).rankings->at(0).sales_count, 8);
    EXPECT_EQ(store.top_calls, 2);
}

TEST_F(GetRankingTest, StockChangesDoNotReloadTheNamesTheRankingShows) {
    store.day = {{1, 7}};
    GetRanking ranking(store, backup, catalog, metrics, std::chrono::seconds(60));
    run(ranking.top(day, 10));
    EXPECT_EQ(products.all_calls, 1);
    for (int i = 0; i < 5; ++i) {  // payments: each changes stock, and the ranking
        catalog.stock_changed();
        ranking.invalidate();
        EXPECT_EQ(run(ranking.top(day, 10)).rankings->at(0).product_name, "P1");
    }
    EXPECT_EQ(store.top_calls, 6);
    EXPECT_EQ(products.all_calls, 1) << "a ranking read reloaded the catalogue from the database";
}

TEST(ProductCatalogTest, AStockChangeExpiresTheStockSnapshotButNotTheNames) {
    FakeProducts products;
    ProductCatalog catalog{products, std::chrono::seconds(60)};
    EXPECT_EQ(run(catalog.snapshot())->at(0).stock, 10);
    EXPECT_EQ(run(catalog.names_snapshot())->at(0).name, "P1");
    EXPECT_EQ(products.all_calls, 1);

    products.stock = 9;
    catalog.stock_changed();
    EXPECT_EQ(run(catalog.names_snapshot())->at(0).name, "P1");
    EXPECT_EQ(products.all_calls, 1);                    // names: the loaded snapshot serves
    EXPECT_EQ(run(catalog.snapshot())->at(0).stock, 9);  // stock: reloaded
    EXPECT_EQ(run(catalog.find(2))->stock, 9);           // and kept
    EXPECT_EQ(run(catalog.names_snapshot())->at(0).stock, 9);
    EXPECT_EQ(products.all_calls, 2);
}

}  // namespace
}  // namespace ec::app
