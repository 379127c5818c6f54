#include "infra/postgres/pg_coupon_repository.hpp"

#include <stdexcept>

#include "infra/postgres/pg_pool.hpp"
#include "infra/postgres/wal_flush_barrier.hpp"

namespace ec::infra::pg {

using app::IssueOutcome;
using Kind = IssueOutcome::Kind;

namespace {
Kind kind_of(std::string_view outcome) {
    if (outcome == "ISSUED") return Kind::Issued;
    if (outcome == "USER_NOT_FOUND") return Kind::UserNotFound;
    if (outcome == "COUPON_NOT_FOUND") return Kind::CouponNotFound;
    if (outcome == "NOT_IN_WINDOW") return Kind::NotInWindow;
    if (outcome == "ALREADY_ISSUED") return Kind::AlreadyIssued;
    if (outcome == "SOLD_OUT") return Kind::SoldOut;
    throw std::runtime_error("unexpected coupon issue outcome: " + std::string(outcome));
}
}  // namespace

boost::asio::awaitable<IssueOutcome> PgCouponRepository::issue(std::int64_t user_id, std::int64_t coupon_id) {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query(
        "SELECT outcome, user_coupon_id, coupon_name, discount_rate, issued_at_us, expires_at_us, remaining "
        "  FROM issue_coupon($1, $2)",
        user_id, coupon_id);
    IssueOutcome out;
    out.kind = kind_of(r.text(0, 0));
    if (out.kind == Kind::Issued) {
        auto& uc = out.issued.user_coupon;
        uc.id = r.int64(0, 1);
        uc.coupon_id = coupon_id;
        uc.coupon_name = r.string(0, 2);
        uc.discount_rate = static_cast<std::int32_t>(r.int64(0, 3));
        uc.status = domain::UserCouponStatus::Available;
        uc.issued_at_us = r.int64(0, 4);
        uc.expires_at_us = r.int64(0, 5);
        out.issued.remaining = static_cast<std::int32_t>(r.int64(0, 6));
    }
    co_return out;
}

boost::asio::awaitable<std::optional<domain::Coupon>> PgCouponRepository::find(std::int64_t coupon_id) {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query(
        "SELECT id, name, discount_rate, total_quantity, issued_quantity, epoch_us(start_date), "
        "epoch_us(end_date) "
        "  FROM coupons WHERE id = $1",
        coupon_id);
    if (r.rows() == 0) co_return std::nullopt;
    co_return domain::Coupon{r.int64(0, 0),
                             r.string(0, 1),
                             static_cast<std::int32_t>(r.int64(0, 2)),
                             static_cast<std::int32_t>(r.int64(0, 3)),
                             static_cast<std::int32_t>(r.int64(0, 4)),
                             r.int64(0, 5),
                             r.int64(0, 6)};
}

boost::asio::awaitable<std::optional<std::vector<domain::UserCoupon>>> PgCouponRepository::of_user(
    std::int64_t user_id, std::optional<domain::UserCouponStatus> status) {
    auto conn = co_await pool_->acquire();
    std::optional<std::string> status_text;
    if (status) status_text = std::string(domain::to_string(*status));
    const auto r = co_await conn->query(
        "SELECT uc.id, uc.coupon_id, c.name, c.discount_rate, uc.status, epoch_us(uc.issued_at), "
        "       epoch_us(uc.used_at), epoch_us(uc.expires_at) "
        "  FROM user_coupons uc JOIN coupons c ON c.id = uc.coupon_id "
        " WHERE uc.user_id = $1 AND ($2::TEXT IS NULL OR uc.status = $2::TEXT) "
        " ORDER BY uc.issued_at DESC, uc.id DESC",
        user_id, status_text);
    if (r.rows() == 0) {
        const auto exists = co_await conn->query("SELECT 1 FROM users WHERE id = $1", user_id);
        if (exists.rows() == 0) co_return std::nullopt;
    }
    std::vector<domain::UserCoupon> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(domain::UserCoupon{r.int64(i, 0), r.int64(i, 1), r.string(i, 2),
                                         static_cast<std::int32_t>(r.int64(i, 3)),
                                         domain::user_coupon_status_from_db(r.text(i, 4)), r.int64(i, 5),
                                         r.opt_int64(i, 6), r.int64(i, 7)});
    }
    co_return out;
}

boost::asio::awaitable<app::ReservedIssue> PgCouponRepository::issue_reserved(std::int64_t user_id,
                                                                              std::int64_t coupon_id) {
    // Committed without waiting for the WAL flush (kCommitWithoutFlushWait): the issuer confirms a
    // request in Redis only after flush_issues(), which returns once the WAL is flushed past every
    // earlier commit record (WalFlushBarrier). A crash before that loses the issue and leaves
    // its request pending in the stream, to be issued again. Otherwise every issue held the coupon's
    // row lock through its own flush, and the issues of a coupon committed one flush at a time.
    static const std::string kIssue =
        "SELECT issue_reserved_coupon($1, $2), " + std::string(kCommitWithoutFlushWait);
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query(kIssue, user_id, coupon_id);
    const auto outcome = r.text(0, 0);
    if (outcome == "ISSUED") co_return app::ReservedIssue::Issued;
    if (outcome == "ALREADY_ISSUED") co_return app::ReservedIssue::AlreadyIssued;
    if (outcome == "SOLD_OUT") co_return app::ReservedIssue::SoldOut;
    if (outcome == "COUPON_NOT_FOUND") co_return app::ReservedIssue::CouponNotFound;
    throw std::runtime_error("unexpected reserved issue outcome: " + std::string(outcome));
}

boost::asio::awaitable<void> PgCouponRepository::flush_issues() {
    // One round of the flush barrier, shared with the order and payment commits waiting at the same
    // time: it returns once the WAL is flushed past every commit that returned before this call.
    if (!flush_) throw std::logic_error("PgCouponRepository::flush_issues needs a WalFlushBarrier");
    co_await flush_->wait();
}

boost::asio::awaitable<std::optional<app::GateSnapshot>> PgCouponRepository::gate_snapshot(
    std::int64_t coupon_id) {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query("SELECT total, issued, end_us, holders FROM coupon_gate_snapshot($1)",
                                        coupon_id);
    if (r.rows() == 0) co_return std::nullopt;
    app::GateSnapshot out;
    out.total = static_cast<std::int32_t>(r.int64(0, 0));
    out.issued = static_cast<std::int32_t>(r.int64(0, 1));
    out.end_at_us = r.int64(0, 2);
    const auto holders = r.text(0, 3);
    std::size_t pos = 0;
    while (pos < holders.size()) {
        auto end = holders.find(',', pos);
        if (end == std::string_view::npos) end = holders.size();
        out.holders.push_back(std::stoll(std::string(holders.substr(pos, end - pos))));
        pos = end + 1;
    }
    co_return out;
}

boost::asio::awaitable<bool> PgCouponRepository::holds(std::int64_t user_id, std::int64_t coupon_id) {
    auto conn = co_await pool_->acquire();
    const auto r = co_await conn->query("SELECT 1 FROM user_coupons WHERE user_id = $1 AND coupon_id = $2",
                                        user_id, coupon_id);
    co_return r.rows() > 0;
}

}  // namespace ec::infra::pg
