#include "app/rebuild_ranking.hpp"

namespace ec::app {

boost::asio::awaitable<RebuildReport> RebuildRanking::execute(domain::BusinessDate date) {
    RebuildReport report;
    co_await outbox_.with_day_sales(date, [&](const DaySales& sales) -> boost::asio::awaitable<void> {
        co_await store_.replace_day(date, sales.totals, sales.event_ids);
        report.products = sales.totals.size();
        report.orders = sales.event_ids.size();
        for (const auto& t : sales.totals) report.units += t.sales_count;
        co_return;
    });
    co_return report;
}

}  // namespace ec::app
