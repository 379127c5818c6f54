#pragma once
// Coupons as the FCFS reservation path sees them: kept in memory for `ttl`, so validating a
// reservation (exists, inside its window) takes no database round trip at steady state (SPEC §7.1).
// A stale entry is served while one caller refreshes it, and also when the database is down: the
// window of a coupon does not change under a running sale, and reservations must keep working
// while PostgreSQL is away (SPEC §11).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "app/coupon_repository.hpp"

namespace ec::app {

class CouponCatalog {
public:
    CouponCatalog(CouponRepository& coupons, std::chrono::milliseconds ttl);
    // nullopt when the coupon does not exist (remembered for `ttl` as well).
    boost::asio::awaitable<std::optional<domain::Coupon>> find(std::int64_t coupon_id);

private:
    using Clock = std::chrono::steady_clock;
    struct Entry {
        std::optional<domain::Coupon> coupon;
        Clock::time_point fetched_at{};
        bool refreshing = false;
    };
    static constexpr std::size_t kMaxEntries = 10'000;  // bounded: unknown ids cannot grow it forever

    CouponRepository& coupons_;
    std::chrono::milliseconds ttl_;
    std::mutex mutex_;
    std::unordered_map<std::int64_t, Entry> entries_;
};

}  // namespace ec::app
