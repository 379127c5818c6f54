#include "app/recover_stale_payments.hpp"

#include <spdlog/spdlog.h>

namespace ec::app {

boost::asio::awaitable<std::size_t> RecoverStalePayments::execute() {
    constexpr int kBatch = 100;
    std::size_t total = 0;
    for (;;) {
        const auto orders = co_await payments_.recover_stale(stale_after_, kBatch);
        for (const auto order_id : orders) {
            spdlog::warn("payment of order {} was abandoned between reserve and complete; rolled back",
                         order_id);
        }
        total += orders.size();
        if (!orders.empty()) catalog_.stock_changed();
        if (orders.size() < static_cast<std::size_t>(kBatch)) break;
    }
    co_return total;
}

}  // namespace ec::app
