#include "infra/postgres/pg_product_repository.hpp"

#include "infra/postgres/pg_pool.hpp"

namespace ec::infra::pg {

namespace {
std::optional<std::string> opt_string(const Result& r, int row, int col) {
    if (r.is_null(row, col)) return std::nullopt;
    return r.string(row, col);
}
}  // namespace

boost::asio::awaitable<std::vector<domain::Product>> PgProductRepository::all() {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query(
        "SELECT id, name, description, price, stock, category, epoch_us(created_at) FROM products ORDER BY "
        "id");
    std::vector<domain::Product> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(domain::Product{r.int64(i, 0), r.string(i, 1), opt_string(r, i, 2), r.int64(i, 3),
                                      static_cast<std::int32_t>(r.int64(i, 4)), opt_string(r, i, 5),
                                      r.int64(i, 6)});
    }
    co_return out;
}

boost::asio::awaitable<std::vector<domain::TopProduct>> PgProductRepository::top_selling(
    int days, int limit, const std::string& time_zone) {
    auto conn = co_await pool_->acquire();
    // Day boundaries are those of the business zone: "today" starts at local midnight there. Paid
    // orders are found through their OrderCompleted events, created at the order's paid_at (V022:
    // no index on orders covers the columns the completion sets, so it stays a HOT update).
    const auto r = co_await conn->query(
        "WITH since AS ("
        "  SELECT (date_trunc('day', now() AT TIME ZONE $1) - make_interval(days => $2::INT - 1))"
        "         AT TIME ZONE $1 AS t) "
        "SELECT i.product_id, p.name, sum(i.quantity)::BIGINT AS units, sum(i.subtotal)::BIGINT "
        "  FROM since, outbox_events e JOIN orders o ON o.id = e.aggregate_id "
        "  JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id "
        " WHERE e.event_type = 'OrderCompleted' AND e.created_at >= since.t "
        "   AND o.status = 'COMPLETED' AND o.paid_at >= since.t "
        " GROUP BY i.product_id, p.name ORDER BY units DESC, i.product_id LIMIT $3::INT",
        time_zone, days, limit);
    std::vector<domain::TopProduct> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(domain::TopProduct{i + 1, r.int64(i, 0), r.string(i, 1), r.int64(i, 2), r.int64(i, 3)});
    }
    co_return out;
}

}  // namespace ec::infra::pg
