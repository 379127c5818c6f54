#include "infra/postgres/pg_payment_repository.hpp"

#include <boost/json/parse.hpp>
#include <string>

#include "infra/postgres/pg_pool.hpp"
#include "infra/postgres/wal_flush_barrier.hpp"

namespace ec::infra::pg {

namespace bj = boost::json;
using app::ReserveOutcome;
using Kind = ReserveOutcome::Kind;

namespace {

Kind kind_of(std::string_view outcome) {
    static const std::pair<std::string_view, Kind> kKinds[] = {
        {"RESERVED", Kind::Reserved},
        {"REPLAYED", Kind::Replayed},
        {"DECLINED", Kind::Declined},
        {"IN_PROGRESS", Kind::InProgress},
        {"KEY_REUSED", Kind::KeyReused},
        {"ORDER_NOT_FOUND", Kind::OrderNotFound},
        {"USER_NOT_FOUND", Kind::UserNotFound},
        {"NOT_OWNER", Kind::NotOwner},
        {"BAD_STATUS", Kind::BadStatus},
        {"OTHER_PAYMENT_IN_PROGRESS", Kind::OtherPaymentInProgress},
        {"INSUFFICIENT_BALANCE", Kind::InsufficientBalance},
        {"INSUFFICIENT_STOCK", Kind::InsufficientStock},
        {"COUPON_NOT_USABLE", Kind::CouponNotUsable},
    };
    for (const auto& [name, kind] : kKinds) {
        if (name == outcome) return kind;
    }
    throw std::runtime_error("unexpected payment outcome: " + std::string(outcome));
}

// The receipt stored in the idempotency record by payment_complete().
domain::PaymentReceipt receipt_from(std::string_view json) {
    const auto v = bj::parse(json).as_object();
    return domain::PaymentReceipt{
        v.at("orderId").to_number<std::int64_t>(), v.at("paidAmount").to_number<std::int64_t>(),
        v.at("remainingBalance").to_number<std::int64_t>(), std::string(v.at("dataTransmission").as_string()),
        v.at("paidAtUs").to_number<std::int64_t>()};
}

}  // namespace

boost::asio::awaitable<ReserveOutcome> PgPaymentRepository::reserve(std::int64_t order_id,
                                                                    std::int64_t user_id,
                                                                    const std::string& key) {
    // Step 1 commits without waiting for its WAL flush (kCommitWithoutFlushWait). Nothing it writes is
    // acknowledged to anyone: the client learns the outcome from step 3 or the compensation, which are
    // answered only once the WAL is flushed up to them (their own synchronous commit, or the flush
    // barrier's round after them), step 1's commit record included (WAL is flushed in order). A database
    // crash in between loses the reservation with all its effects, which is the state its compensation
    // would restore; a refusal writes nothing net. It saves one flush wait per payment: on this
    // machine's virtual disk that was ≈ 20 % of the database's CPU per paid order (docs/performance.md).
    static const std::string kReserve =
        "SELECT outcome, response, amount, balance, detail FROM payment_reserve($1, $2, $3), " +
        std::string(kCommitWithoutFlushWait);
    Result r;
    {
        auto conn = co_await pool_->acquire();
        r = co_await conn->query(kReserve, order_id, user_id, key);
    }
    ReserveOutcome out;
    out.kind = kind_of(r.text(0, 0));
    if (out.kind == Kind::Replayed) {
        // The receipt of a completion that may be committed but not yet flushed (flush barrier).
        if (barrier_) co_await barrier_->wait();
        out.receipt = receipt_from(r.text(0, 1));
    } else if (out.kind == Kind::Declined) {
        out.message = std::string(bj::parse(r.text(0, 1)).as_object().at("message").as_string());
    }
    out.amount = r.opt_int64(0, 2).value_or(0);
    out.balance = r.opt_int64(0, 3).value_or(0);
    if (!r.is_null(0, 4)) out.message = r.string(0, 4);
    co_return out;
}

boost::asio::awaitable<std::optional<domain::PaymentReceipt>> PgPaymentRepository::complete(
    std::int64_t order_id, std::int64_t user_id, const std::string& key, const ReserveOutcome& reserved,
    const std::string& transmission) {
    static const std::string kComplete =
        "SELECT outcome, response FROM payment_complete($1, $2, $3, $4, $5, $6)";
    static const std::string kCompleteForSharedFlush =
        kComplete + ", " + std::string(kCommitWithoutFlushWait);
    Result r;
    {
        // Step 3 of a payment whose step 1 holds balance, stock and coupon: ahead of new requests. The
        // connection goes back before the barrier's wait: it serves other requests meanwhile.
        auto conn = co_await pool_->acquire(AcquirePriority::Continuation);
        r = co_await conn->query(barrier_ ? kCompleteForSharedFlush : kComplete, order_id, user_id, key,
                                 transmission, reserved.amount, reserved.balance);
    }
    if (r.text(0, 0) != "COMPLETED") co_return std::nullopt;
    if (barrier_) co_await barrier_->wait();
    co_return receipt_from(r.text(0, 1));
}

boost::asio::awaitable<void> PgPaymentRepository::compensate(std::int64_t user_id, const std::string& key,
                                                             const std::string& message) {
    auto conn = co_await pool_->acquire(AcquirePriority::Continuation);
    co_await conn->query("SELECT outcome FROM payment_compensate($1, $2, $3)", user_id, key, message);
    co_return;
}

boost::asio::awaitable<std::vector<std::int64_t>> PgPaymentRepository::recover_stale(
    std::chrono::milliseconds older_than, int limit, std::optional<std::chrono::milliseconds> lookback) {
    auto conn = co_await pool_->acquire();
    const std::optional<std::int64_t> lookback_ms =
        lookback ? std::optional<std::int64_t>(lookback->count()) : std::nullopt;
    const auto r = co_await conn->query(
        "SELECT order_id FROM payment_recover_stale(make_interval(secs => $1::BIGINT / 1000.0), $2::INT, "
        "make_interval(secs => $3::BIGINT / 1000.0))",
        static_cast<std::int64_t>(older_than.count()), limit, lookback_ms);
    std::vector<std::int64_t> orders;
    for (int i = 0; i < r.rows(); ++i) orders.push_back(r.opt_int64(i, 0).value_or(0));
    co_return orders;
}

}  // namespace ec::infra::pg
