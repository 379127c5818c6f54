#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>

#include "app/payment_repository.hpp"
#include "app/product_catalog.hpp"

namespace ec::app {

// Rolls back payments abandoned between reserve and complete by a crashed instance (SPEC §11), so
// no balance or stock stays taken for an order that was never paid. Run periodically.
//
// A sweep that reads every payment record ever written costs more with every order, so most sweeps
// read only the records of a window: from the start of the last sweep that completed, minus
// `stale_after` (a record is only looked for once that old), minus a margin, up to now minus
// `stale_after`. No record of a window can still be uncommitted when the sweep reads it: it was
// written more than `stale_after` ago by one statement (bounded by datasource.statement-timeout,
// 10 s by default, far below `stale_after`). The margin covers the other gap: the window is measured
// from this process's clock readings, and each sweep's statement may start up to
// datasource.pool.connection-timeout (3 s) after its reading, waiting for a connection. Every
// `full_interval`, and first of all, a sweep reads everything: it also finds a record a windowed
// sweep passed over because another session held it then (SKIP LOCKED) and later rolled back.
class RecoverStalePayments {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds kWindowMargin{std::chrono::seconds(15)};

    RecoverStalePayments(PaymentRepository& payments, ProductCatalog& catalog,
                         std::chrono::milliseconds stale_after, std::chrono::milliseconds full_interval,
                         std::function<Clock::time_point()> now = Clock::now)
        : payments_(payments),
          catalog_(catalog),
          stale_after_(stale_after),
          full_interval_(full_interval),
          now_(std::move(now)) {}
    // Returns how many were rolled back.
    boost::asio::awaitable<std::size_t> execute();

    // What the next sweep reads, if it started at `now`: the records of this long before now, or
    // all of them (nullopt).
    std::optional<std::chrono::milliseconds> lookback_at(Clock::time_point now) const;

private:
    PaymentRepository& payments_;
    ProductCatalog& catalog_;
    std::chrono::milliseconds stale_after_;
    std::chrono::milliseconds full_interval_;
    std::function<Clock::time_point()> now_;
    std::optional<Clock::time_point> completed_from_;  // start of the last sweep that completed
    std::optional<Clock::time_point> full_from_;       // start of the last full sweep that completed
};

}  // namespace ec::app
