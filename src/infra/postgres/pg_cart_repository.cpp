#include "infra/postgres/pg_cart_repository.hpp"

#include "infra/postgres/pg_pool.hpp"

namespace ec::infra::pg {

using app::CartChange;
using Kind = CartChange::Kind;

namespace {
Kind kind_of(std::string_view outcome) {
    if (outcome == "ADDED" || outcome == "UPDATED" || outcome == "REMOVED") return Kind::Done;
    if (outcome == "USER_NOT_FOUND") return Kind::UserNotFound;
    if (outcome == "PRODUCT_NOT_FOUND") return Kind::ProductNotFound;
    if (outcome == "CART_NOT_FOUND") return Kind::CartNotFound;
    if (outcome == "ITEM_NOT_FOUND") return Kind::ItemNotFound;
    if (outcome == "INSUFFICIENT_STOCK") return Kind::InsufficientStock;
    throw std::runtime_error("unexpected cart outcome: " + std::string(outcome));
}
}  // namespace

boost::asio::awaitable<std::optional<domain::Cart>> PgCartRepository::find(std::int64_t user_id) {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query(
        "SELECT ci.product_id, p.name, p.price, ci.quantity, p.stock "
        "  FROM users u LEFT JOIN carts c ON c.user_id = u.id "
        "  LEFT JOIN cart_items ci ON ci.cart_id = c.id LEFT JOIN products p ON p.id = ci.product_id "
        " WHERE u.id = $1 ORDER BY ci.created_at DESC, ci.id DESC",
        user_id);
    if (r.rows() == 0) co_return std::nullopt;
    domain::Cart cart{user_id, {}};
    for (int i = 0; i < r.rows(); ++i) {
        if (r.is_null(i, 0)) continue;  // the user has no cart or an empty one
        cart.lines.push_back(domain::CartLine{r.int64(i, 0), r.string(i, 1), r.int64(i, 2),
                                              static_cast<std::int32_t>(r.int64(i, 3)),
                                              static_cast<std::int32_t>(r.int64(i, 4))});
    }
    co_return cart;
}

boost::asio::awaitable<CartChange> PgCartRepository::add(std::int64_t user_id, std::int64_t product_id,
                                                         std::int32_t quantity) {
    auto conn = co_await pool_->acquire();
    const auto r =
        co_await conn->query("SELECT outcome, product_name, requested, stock FROM cart_add($1, $2, $3)",
                             user_id, product_id, quantity);
    CartChange change;
    change.kind = kind_of(r.text(0, 0));
    if (change.kind == Kind::InsufficientStock) {
        change.product_name = r.string(0, 1);
        change.requested = r.int64(0, 2);
        change.stock = static_cast<std::int32_t>(r.int64(0, 3));
    }
    co_return change;
}

boost::asio::awaitable<CartChange> PgCartRepository::set_quantity(std::int64_t user_id,
                                                                  std::int64_t product_id,
                                                                  std::int32_t quantity) {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query(
        "SELECT outcome, product_name, unit_price, quantity, stock FROM cart_set_quantity($1, $2, $3)",
        user_id, product_id, quantity);
    CartChange change;
    change.kind = kind_of(r.text(0, 0));
    if (change.kind == Kind::Done) {
        change.line = domain::CartLine{product_id, r.string(0, 1), r.int64(0, 2),
                                       static_cast<std::int32_t>(r.int64(0, 3)),
                                       static_cast<std::int32_t>(r.int64(0, 4))};
    } else if (change.kind == Kind::InsufficientStock) {
        change.product_name = r.string(0, 1);
        change.requested = quantity;
        change.stock = static_cast<std::int32_t>(r.int64(0, 4));
    }
    co_return change;
}

}  // namespace ec::infra::pg
