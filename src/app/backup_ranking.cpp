#include "app/backup_ranking.hpp"

#include <spdlog/spdlog.h>

#include "app/errors.hpp"
#include "app/get_ranking.hpp"

namespace ec::app {

boost::asio::awaitable<std::size_t> BackupRanking::execute() {
    const auto today = domain::business_today();
    std::vector<domain::RankingEntry> live;
    try {
        live = co_await store_.top(today, size_);
    } catch (const DependencyUnavailable& e) {
        spdlog::warn("ranking backup skipped: Redis unavailable ({}); the previous backup stays", e.what());
        co_return 0;
    }
    if (live.empty()) co_return 0;
    const auto catalog = co_await catalog_.names_snapshot();
    const auto rows = with_names(live, catalog);
    const bool written = co_await backup_.replace(today, rows);
    if (!written) {
        spdlog::debug("ranking backup skipped: another instance is writing it");
        co_return 0;
    }
    spdlog::info("ranking backup: {} rows of {} written", rows.size(), today.iso());
    co_return rows.size();
}

}  // namespace ec::app
