#include "infra/postgres/seeder.hpp"

#include "infra/postgres/pg_pool.hpp"

namespace ec::infra::pg {

namespace {
// The original DataInitializer's users (ids 1..153), inserted before the load-test users so that
// user 1 is the demo user, as in the original where DataInitializer runs first.
constexpr const char* kDemoUsers = R"SQL(
WITH ins AS (
  INSERT INTO users (id, email, username, balance)
  SELECT * FROM (VALUES (1::BIGINT, 'hanghae@example.com', '김항해', 100000000::BIGINT),
                        (2, 'plus@example.com', '이플러스', 500000),
                        (3, 'backend@example.com', '박백엔드', 100000)) v
  UNION ALL
  SELECT i, 'testuser' || i || '@example.com', '테스트사용자' || i, 100000000 FROM generate_series(4, 153) i
  ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) FROM ins
)SQL";

// LoadTestDataInitializer's ranges: 1, 1000-10999, 200000-200099, 300000-309999 (20,101 users).
constexpr const char* kLoadTestUsers = R"SQL(
WITH ins AS (
  INSERT INTO users (id, email, username, balance)
  SELECT 1, 'k6test1@loadtest.com', 'K6Test-Default-1', 20000000000
  UNION ALL
  SELECT i, 'k6test' || i || '@loadtest.com', 'K6Test-Extreme-' || i, 10000 FROM generate_series(1000, 10999) i
  UNION ALL
  SELECT i, 'k6test' || i || '@loadtest.com', 'K6Test-Seq-' || i, 10000 FROM generate_series(200000, 200099) i
  UNION ALL
  SELECT i, 'k6test' || i || '@loadtest.com', 'K6Test-Ramp-' || i, 10000 FROM generate_series(300000, 309999) i
  ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) FROM ins
)SQL";

// Explicit ids bypass the identity sequence; move it past them so later inserts don't collide.
constexpr const char* kBumpSequence =
    "SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST((SELECT max(id) FROM users), 1))";
}  // namespace

boost::asio::awaitable<SeedReport> seed(PgPool& pool, bool demo_data, bool load_test_users) {
    co_return co_await pool.transaction([&](PgConnection& conn) -> boost::asio::awaitable<SeedReport> {
        SeedReport report;
        if (demo_data) report.demo_users = (co_await conn.query(kDemoUsers)).int64(0, 0);
        if (load_test_users) report.load_test_users = (co_await conn.query(kLoadTestUsers)).int64(0, 0);
        co_await conn.query(kBumpSequence);
        co_return report;
    });
}

}  // namespace ec::infra::pg
