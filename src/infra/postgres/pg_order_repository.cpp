#include "infra/postgres/pg_order_repository.hpp"

#include "infra/postgres/pg_array.hpp"
#include "infra/postgres/pg_pool.hpp"
#include "infra/postgres/wal_flush_barrier.hpp"

namespace ec::infra::pg {

using app::CreateOrderOutcome;
using Kind = CreateOrderOutcome::Kind;

namespace {

Kind kind_of(std::string_view outcome) {
    static const std::pair<std::string_view, Kind> kKinds[] = {
        {"CREATED", Kind::Created},
        {"REPLAYED", Kind::Replayed},
        {"KEY_REUSED", Kind::KeyReused},
        {"USER_NOT_FOUND", Kind::UserNotFound},
        {"PRODUCT_NOT_FOUND", Kind::ProductNotFound},
        {"INSUFFICIENT_STOCK", Kind::InsufficientStock},
        {"COUPON_NOT_FOUND", Kind::CouponNotFound},
        {"COUPON_NOT_OWNED", Kind::CouponNotOwned},
        {"COUPON_NOT_USABLE", Kind::CouponNotUsable},
        {"COUPON_EXPIRED", Kind::CouponExpired},
    };
    for (const auto& [name, kind] : kKinds) {
        if (name == outcome) return kind;
    }
    throw std::runtime_error("unexpected order outcome: " + std::string(outcome));
}

// The lines as parallel arrays (product ids, quantities) for unnest().
template <typename F>
std::string int_array(const std::vector<domain::OrderLineRequest>& lines, F field) {
    std::vector<std::int64_t> values;
    values.reserve(lines.size());
    for (const auto& line : lines) values.push_back(field(line));
    return array_literal(values);
}

constexpr const char* kOrderColumns =
    "SELECT o.id, o.user_id, o.order_number, o.subtotal_amount, o.discount_amount, o.total_amount, o.status, "
    "       epoch_us(o.created_at), i.product_id, i.product_name, i.quantity, i.unit_price, i.subtotal "
    "  FROM orders o JOIN order_items i ON i.order_id = o.id ";

domain::OrderStatus status_from_db(std::string_view text) {
    if (text == "PENDING") return domain::OrderStatus::Pending;
    if (text == "COMPLETED") return domain::OrderStatus::Completed;
    if (text == "CANCELLED") return domain::OrderStatus::Cancelled;
    throw std::runtime_error("unknown order status in the database: " + std::string(text));
}

// Where the order id and the 12 columns from user id to line subtotal (in kOrderColumns' order)
// are in a result: kOrderColumns itself, or create_order()'s rows.
struct OrderLayout {
    int id;
    int rest;
};
constexpr OrderLayout kOrderColumnsLayout{0, 1};
constexpr OrderLayout kCreateOrderLayout{1, 6};

// Order rows grouped by order (rows of one order are adjacent).
std::vector<domain::Order> orders_from(const Result& r, OrderLayout at = kOrderColumnsLayout) {
    std::vector<domain::Order> out;
    const int c = at.rest;
    for (int i = 0; i < r.rows(); ++i) {
        const auto id = r.int64(i, at.id);
        if (out.empty() || out.back().id != id) {
            domain::Order o;
            o.id = id;
            o.user_id = r.int64(i, c);
            o.order_number = r.string(i, c + 1);
            o.subtotal_amount = r.int64(i, c + 2);
            o.discount_amount = r.int64(i, c + 3);
            o.total_amount = r.int64(i, c + 4);
            o.status = status_from_db(r.text(i, c + 5));
            o.created_at_us = r.int64(i, c + 6);
            out.push_back(std::move(o));
        }
        out.back().items.push_back(domain::OrderItem{r.int64(i, c + 7), r.string(i, c + 8),
                                                     static_cast<std::int32_t>(r.int64(i, c + 9)),
                                                     r.int64(i, c + 10), r.int64(i, c + 11)});
    }
    return out;
}

}  // namespace

boost::asio::awaitable<CreateOrderOutcome> PgOrderRepository::create(
    std::int64_t user_id, const std::string& key, const std::string& fingerprint,
    const std::vector<domain::OrderLineRequest>& lines, std::optional<std::int64_t> coupon_id) {
    static const std::string kCreate =
        "SELECT c.* FROM create_order($1, $2, $3, $4::BIGINT[], $5::INT[], $6::BIGINT) c";
    static const std::string kCreateForSharedFlush = kCreate + ", " + std::string(kCommitWithoutFlushWait);
    const auto products = int_array(lines, [](const auto& l) { return l.product_id; });
    const auto quantities = int_array(lines, [](const auto& l) { return l.quantity; });
    Result r;
    {
        // The connection goes back before the barrier's wait: it serves other requests meanwhile.
        auto conn = co_await pool_->acquire();
        r = co_await conn->query(barrier_ ? kCreateForSharedFlush : kCreate, user_id, key, fingerprint,
                                 products, quantities, coupon_id);
    }
    CreateOrderOutcome out;
    out.kind = kind_of(r.text(0, 0));
    if (out.kind == Kind::Created || out.kind == Kind::Replayed) {
        // A replay may answer a twin request's order that is committed but not flushed yet: both wait.
        if (barrier_) co_await barrier_->wait();
        auto orders = orders_from(r, kCreateOrderLayout);
        if (orders.size() != 1) throw std::runtime_error("create_order returned no order");
        out.order = std::move(orders.front());
        co_return out;
    }
    out.product_id = r.opt_int64(0, 2).value_or(0);
    if (!r.is_null(0, 3)) out.detail = r.string(0, 3);
    out.requested = r.opt_int64(0, 4).value_or(0);
    out.stock = static_cast<std::int32_t>(r.opt_int64(0, 5).value_or(0));
    co_return out;
}

boost::asio::awaitable<std::optional<domain::Order>> PgOrderRepository::find(std::int64_t order_id) {
    auto conn = co_await pool_->acquire();
    static const std::string sql = std::string(kOrderColumns) + "WHERE o.id = $1 ORDER BY i.product_id";
    const auto r = co_await conn->query(sql, order_id);
    auto orders = orders_from(r);
    if (orders.empty()) co_return std::nullopt;
    co_return std::move(orders.front());
}

boost::asio::awaitable<std::optional<std::vector<domain::Order>>> PgOrderRepository::of_user(
    std::int64_t user_id, std::optional<domain::OrderStatus> status) {
    auto conn = co_await pool_->acquire();
    std::optional<std::string> status_text;
    if (status) status_text = std::string(domain::to_string(*status));
    static const std::string sql = std::string(kOrderColumns) +
                                   "WHERE o.user_id = $1 AND ($2::TEXT IS NULL OR o.status = $2::TEXT) "
                                   "ORDER BY o.created_at DESC, o.id DESC, i.product_id";
    const auto r = co_await conn->query(sql, user_id, status_text);
    if (r.rows() == 0) {
        const auto exists = co_await conn->query("SELECT 1 FROM users WHERE id = $1", user_id);
        if (exists.rows() == 0) co_return std::nullopt;
    }
    co_return orders_from(r);
}

}  // namespace ec::infra::pg
