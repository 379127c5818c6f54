#include "app/recover_stale_payments.hpp"

#include <spdlog/spdlog.h>

namespace ec::app {

std::optional<std::chrono::milliseconds> RecoverStalePayments::lookback_at(Clock::time_point now) const {
    // A completed full sweep implies a completed sweep: completed_from_ is set whenever full_from_ is.
    if (!full_from_ || now - *full_from_ >= full_interval_) return std::nullopt;
    return std::chrono::ceil<std::chrono::milliseconds>(now - *completed_from_) + stale_after_ +
           kWindowMargin;
}

boost::asio::awaitable<std::size_t> RecoverStalePayments::execute() {
    constexpr int kBatch = 100;
    const auto started = now_();
    const auto lookback = lookback_at(started);
    std::size_t total = 0;
    for (;;) {
        const auto orders = co_await payments_.recover_stale(stale_after_, kBatch, lookback);
        for (const auto order_id : orders) {
            spdlog::warn("payment of order {} was abandoned between reserve and complete; rolled back",
                         order_id);
        }
        total += orders.size();
        if (!orders.empty()) catalog_.stock_changed();
        if (orders.size() < static_cast<std::size_t>(kBatch)) break;
    }
    // Only now is everything up to `started` covered (a sweep that threw leaves the window growing).
    completed_from_ = started;
    if (!lookback) full_from_ = started;
    co_return total;
}

}  // namespace ec::app
