#include "infra/postgres/pg_ranking_backup_repository.hpp"

#include "infra/postgres/pg_array.hpp"
#include "infra/postgres/pg_pool.hpp"

namespace ec::infra::pg {

namespace {
// Transaction-scoped advisory lock: one instance writes the backup at a time (SPEC §6).
constexpr const char* kBackupLock = "SELECT pg_try_advisory_xact_lock(7305482514186395003)";
}  // namespace

boost::asio::awaitable<std::vector<domain::RankedProduct>> PgRankingBackupRepository::load(
    domain::BusinessDate date, int limit) {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query(
        "SELECT ranking, product_id, product_name, sales_count FROM product_ranking_backup "
        "WHERE aggregated_date = $1::date ORDER BY ranking LIMIT $2",
        date.iso(), limit);
    std::vector<domain::RankedProduct> rows;
    rows.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        rows.push_back(domain::RankedProduct{static_cast<int>(r.int64(i, 0)), r.int64(i, 1), r.string(i, 2),
                                             r.int64(i, 3)});
    }
    co_return rows;
}

boost::asio::awaitable<bool> PgRankingBackupRepository::replace(
    domain::BusinessDate date, const std::vector<domain::RankedProduct>& rows) {
    std::vector<std::int64_t> ranks;
    std::vector<std::int64_t> ids;
    std::vector<std::string> names;
    std::vector<std::int64_t> counts;
    for (const auto& row : rows) {
        ranks.push_back(row.rank);
        ids.push_back(row.product_id);
        names.push_back(row.product_name);
        counts.push_back(row.sales_count);
    }
    co_return co_await pool_->transaction([&](PgConnection& conn) -> boost::asio::awaitable<bool> {
        const auto locked = co_await conn.execute(kBackupLock);
        if (!locked.boolean(0, 0)) co_return false;
        co_await conn.query("DELETE FROM product_ranking_backup WHERE aggregated_date = $1::date",
                            date.iso());
        co_await conn.query(
            "INSERT INTO product_ranking_backup (aggregated_date, ranking, product_id, product_name, "
            "sales_count) "
            "SELECT $1::date, r, p, n, c FROM unnest($2::int[], $3::bigint[], $4::text[], $5::bigint[]) AS "
            "t(r, p, "
            "n, c)",
            date.iso(), array_literal(ranks), array_literal(ids), array_literal(names),
            array_literal(counts));
        co_return true;
    });
}

}  // namespace ec::infra::pg
