#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>

#include "app/coupon_catalog.hpp"
#include "app/coupon_gate.hpp"
#include "app/user_directory.hpp"

namespace ec::ops {
class MetricsRegistry;
class Counter;
}  // namespace ec::ops

namespace ec::app {

struct ReservationReceipt {
    std::int64_t coupon_id = 0;
    std::int64_t user_id = 0;
    std::int64_t sequence = 0;  // 1 for the first reservation of the coupon
};

// POST /api/coupons/{id}/reserve (SPEC §7): validation from memory, then one atomic step in the
// gate that takes a unit and queues the issue request. The gate is initialised from the database
// on first use (and after Redis lost its data). Redis unavailable -> DependencyUnavailable (503),
// with nothing written.
class ReserveCoupon {
public:
    struct Deps {
        UserDirectory& users;
        CouponCatalog& catalog;
        CouponRepository& coupons;
        CouponGate& gate;
        IssueRequestSignal& issuer;
    };
    // The gate's keys live until the coupon's end plus `keep_after_end`.
    ReserveCoupon(Deps deps, ops::MetricsRegistry& metrics, std::chrono::milliseconds keep_after_end);
    boost::asio::awaitable<ReservationReceipt> execute(std::int64_t coupon_id, std::int64_t user_id);

private:
    boost::asio::awaitable<ReservationReceipt> reserve(std::int64_t coupon_id, std::int64_t user_id);
    boost::asio::awaitable<void> initialise(std::int64_t coupon_id);

    Deps deps_;
    std::mutex mutex_;
    std::set<std::int64_t> initialising_;  // coupons whose gate a request of this instance is initialising
    std::chrono::milliseconds keep_after_end_;
    ops::Counter& reserved_;
    ops::Counter& sold_out_;
    ops::Counter& duplicate_;
    ops::Counter& rejected_;
    ops::Counter& unavailable_;
};

}  // namespace ec::app
