// The purges of old rows on a real PostgreSQL, each test in a database of its own:
// - purge_expired_idempotency_records() (migrations/V025) through PgIdempotencyRecords: expired
//   COMPLETED and FAILED records go, the oldest first and at most `limit` per call; records not yet
//   expired, records still PROCESSING (the stale-payment sweep needs them) and records another session
//   holds stay;
// - purge_published_outbox_events() (V026) through PgOutboxRepository: published events older than
//   the retention go, the oldest first and at most `limit` per call; unpublished, parked and recent
//   events and events another session holds stay.
#include "infra/postgres/pg_idempotency_records.hpp"
#include "infra/postgres/pg_outbox_repository.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "support/migrated_scratch_pool.hpp"
#include "support/pg_admin.hpp"
#include "support/run_on_strand.hpp"
#include "support/test_env.hpp"

namespace ec::infra::pg {
namespace {

using namespace std::chrono_literals;
using Admin = ec::test::PgAdmin;

class PurgeTest : public ::testing::Test {
protected:
    void SetUp() override {
        pg_.emplace("purge", [](ops::DatasourceConfig& ds) {
            ds.pool.maximum_pool_size = 2;
            ds.pool.minimum_idle = 0;
            ds.pool.connection_timeout = 5s;
        });
    }
    void TearDown() override { pg_.reset(); }

    std::optional<ec::test::MigratedScratchPool> pg_;
};

class IdempotencyPurgeTest : public PurgeTest {
protected:
    int purge(int limit) {
        PgIdempotencyRecords records(pg_->pool());
        return ec::test::run_on_strand(
            pg_->ioc(), [&]() { return records.purge_expired(limit); }, 30s);
    }

    // One record of user 1; `expires` is an SQL expression.
    void insert(const std::string& key, const std::string& operation, const std::string& status,
                const std::string& expires) {
        Admin(pg_->url())
            .exec(
                "INSERT INTO idempotency_records (user_id, operation, idempotency_key, request_fingerprint, "
                "status, expires_at) VALUES (1, $1, $2, 'fp', $3, " +
                    expires + ")",
                {operation, key, status});
    }

    // The keys still there, in key order.
    std::string keys() {
        return Admin(pg_->url())
            .exec(
                "SELECT coalesce(string_agg(idempotency_key, ',' ORDER BY idempotency_key), '') "
                "FROM idempotency_records");
    }
};

TEST_F(IdempotencyPurgeTest, ExpiredFinishedRecordsGoOldestFirstInBoundedBatches) {
    insert("a-processing", "PAYMENT", "PROCESSING", "now() - interval '3 days'");  // the oldest
    insert("b-completed", "CHARGE", "COMPLETED", "now() - interval '2 days'");
    insert("c-failed", "PAYMENT", "FAILED", "now() - interval '1 day'");
    insert("d-completed", "PAYMENT", "COMPLETED", "now() - interval '1 second'");
    insert("e-live", "CHARGE", "COMPLETED", "now() + interval '1 day'");

    EXPECT_EQ(purge(2), 2);
    EXPECT_EQ(keys(), "a-processing,d-completed,e-live") << "the two oldest finished ones first";
    EXPECT_EQ(purge(2), 1);
    EXPECT_EQ(keys(), "a-processing,e-live");
    EXPECT_EQ(purge(2), 0);
    EXPECT_EQ(keys(), "a-processing,e-live") << "PROCESSING and unexpired records stay";
}

TEST_F(IdempotencyPurgeTest, ARecordAnotherSessionHoldsIsSkippedNotWaitedFor) {
    insert("a-held", "CHARGE", "COMPLETED", "now() - interval '2 days'");
    insert("b-free", "CHARGE", "COMPLETED", "now() - interval '1 day'");
    Admin holder(pg_->url());
    holder.exec("BEGIN");
    holder.exec("SELECT 1 FROM idempotency_records WHERE idempotency_key = 'a-held' FOR UPDATE");

    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(purge(10), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_EQ(keys(), "a-held");

    holder.exec("COMMIT");
    EXPECT_EQ(purge(10), 1);
    EXPECT_EQ(keys(), "");
}

class OutboxPurgeTest : public PurgeTest {
protected:
    int purge(std::chrono::milliseconds older_than, int limit) {
        PgOutboxRepository outbox(pg_->pool(), 10, 1s, "UTC");
        return ec::test::run_on_strand(
            pg_->ioc(), [&]() { return outbox.purge_published(older_than, limit); }, 30s);
    }

    // One event whose aggregate (order) id names it; `created` and `published` are SQL expressions.
    void insert(int order, const std::string& created, const std::string& published, bool parked = false) {
        Admin(pg_->url())
            .exec(
                "INSERT INTO outbox_events (event_type, aggregate_id, payload, created_at, "
                "published_at, parked) VALUES ('OrderCompleted', $1, '{}', " +
                    created + ", " + published + ", $2)",
                {std::to_string(order), parked ? "true" : "false"});
    }

    // The events still there, by aggregate id.
    std::string orders() {
        return Admin(pg_->url())
            .exec(
                "SELECT coalesce(string_agg(aggregate_id::text, ',' ORDER BY aggregate_id), '') FROM "
                "outbox_events");
    }
};

constexpr auto kThirtyDays = std::chrono::hours(30 * 24);

TEST_F(OutboxPurgeTest, PublishedEventsOlderThanTheRetentionGoOldestFirstInBoundedBatches) {
    insert(1, "now() - interval '40 days'", "NULL");                        // unpublished, the oldest
    insert(2, "now() - interval '39 days'", "NULL", true);                  // parked
    insert(3, "now() - interval '38 days'", "now() - interval '38 days'");  // published
    insert(4, "now() - interval '31 days'", "now() - interval '31 days'");  // published
    insert(5, "now() - interval '30 days 1 hour'",
           "now() - interval '30 days'");                                   // published, just old enough
    insert(6, "now() - interval '29 days'", "now() - interval '29 days'");  // published, kept
    insert(7, "now()", "now()");

    EXPECT_EQ(purge(kThirtyDays, 2), 2);
    EXPECT_EQ(orders(), "1,2,5,6,7") << "the two oldest published ones first";
    EXPECT_EQ(purge(kThirtyDays, 2), 1);
    EXPECT_EQ(orders(), "1,2,6,7");
    EXPECT_EQ(purge(kThirtyDays, 2), 0);
    EXPECT_EQ(orders(), "1,2,6,7") << "unpublished, parked and recent events stay";
    EXPECT_EQ(purge(std::chrono::hours(24), 10), 1) << "the retention is the caller's";
    EXPECT_EQ(orders(), "1,2,7");
}

TEST_F(OutboxPurgeTest, AnEventAnotherSessionHoldsIsSkippedNotWaitedFor) {
    insert(1, "now() - interval '40 days'", "now() - interval '40 days'");
    insert(2, "now() - interval '35 days'", "now() - interval '35 days'");
    Admin holder(pg_->url());
    holder.exec("BEGIN");
    holder.exec("SELECT 1 FROM outbox_events WHERE aggregate_id = 1 FOR UPDATE");

    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(purge(kThirtyDays, 10), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_EQ(orders(), "1");

    holder.exec("COMMIT");
    EXPECT_EQ(purge(kThirtyDays, 10), 1);
    EXPECT_EQ(orders(), "");
}

}  // namespace
}  // namespace ec::infra::pg
