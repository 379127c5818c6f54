#include "infra/postgres/pg_idempotency_records.hpp"

#include "infra/postgres/pg_pool.hpp"

namespace ec::infra::pg {

boost::asio::awaitable<int> PgIdempotencyRecords::purge_expired(int limit) {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query("SELECT purge_expired_idempotency_records($1)", limit);
    co_return static_cast<int>(r.int64(0, 0));
}

}  // namespace ec::infra::pg
