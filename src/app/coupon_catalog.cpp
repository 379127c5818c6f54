#include "app/coupon_catalog.hpp"

#include "app/errors.hpp"

namespace ec::app {

CouponCatalog::CouponCatalog(CouponRepository& coupons, std::chrono::milliseconds ttl)
    : coupons_(coupons), ttl_(ttl) {}

boost::asio::awaitable<std::optional<domain::Coupon>> CouponCatalog::find(std::int64_t coupon_id) {
    std::optional<std::optional<domain::Coupon>> stale;  // set when an entry exists
    {
        const std::scoped_lock lock(mutex_);
        const auto it = entries_.find(coupon_id);
        if (it != entries_.end()) {
            auto& e = it->second;
            if (Clock::now() - e.fetched_at < ttl_ || e.refreshing) co_return e.coupon;
            e.refreshing = true;  // this caller refreshes; the others keep the stale value meanwhile
            stale = e.coupon;
        }
    }
    std::optional<domain::Coupon> fresh;
    try {
        fresh = co_await coupons_.find(coupon_id);
    } catch (const DependencyUnavailable&) {
        if (!stale) throw;
        const std::scoped_lock lock(mutex_);
        entries_[coupon_id].refreshing = false;  // the next caller tries again
        co_return *stale;
    } catch (...) {
        const std::scoped_lock lock(mutex_);
        if (stale) entries_[coupon_id].refreshing = false;
        throw;
    }
    const std::scoped_lock lock(mutex_);
    if (entries_.size() >= kMaxEntries && !entries_.contains(coupon_id)) entries_.clear();
    entries_[coupon_id] = Entry{fresh, Clock::now(), false};
    co_return fresh;
}

}  // namespace ec::app
