#include "infra/postgres/pg_user_repository.hpp"

#include "infra/postgres/pg_pool.hpp"

namespace ec::infra::pg {

using app::ChargeOutcome;

boost::asio::awaitable<std::optional<domain::User>> PgUserRepository::find_by_id(std::int64_t id) {
    auto conn = co_await pool_->acquire();
    auto r = co_await conn->query("SELECT id, username, email, balance FROM users WHERE id = $1", id);
    if (r.rows() == 0) co_return std::nullopt;
    co_return domain::User{r.int64(0, 0), r.string(0, 1), r.string(0, 2), r.int64(0, 3)};
}

boost::asio::awaitable<std::vector<std::int64_t>> PgUserRepository::ids_after(std::int64_t after, int limit) {
    auto conn = co_await pool_->acquire();
    auto r = co_await conn->query("SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT $2", after, limit);
    std::vector<std::int64_t> ids;
    ids.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) ids.push_back(r.int64(i, 0));
    co_return ids;
}

boost::asio::awaitable<ChargeOutcome> PgUserRepository::charge(std::int64_t user_id, const std::string& key,
                                                               std::int64_t amount,
                                                               std::int64_t max_balance) {
    auto conn = co_await pool_->acquire();
    // One statement, one round trip, one transaction: see charge_balance() in migrations/V001.
    auto r = co_await conn->query(
        "SELECT outcome, balance, charged_amount, charged_at_us FROM charge_balance($1, $2, $3, $4)", user_id,
        key, amount, max_balance);
    ChargeOutcome out;
    const auto outcome = r.text(0, 0);
    if (outcome == "CHARGED" || outcome == "REPLAYED") {
        out.kind = outcome == "CHARGED" ? ChargeOutcome::Kind::Charged : ChargeOutcome::Kind::Replayed;
        out.receipt = domain::ChargeReceipt{user_id, r.int64(0, 1), r.int64(0, 2), r.int64(0, 3)};
    } else if (outcome == "USER_NOT_FOUND") {
        out.kind = ChargeOutcome::Kind::UserNotFound;
    } else if (outcome == "BALANCE_LIMIT") {
        out.kind = ChargeOutcome::Kind::BalanceLimit;
    } else {
        out.kind = ChargeOutcome::Kind::KeyReused;
    }
    co_return out;
}

}  // namespace ec::infra::pg
