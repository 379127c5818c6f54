#pragma once
// `ecommerce ranking rebuild --date yyyy-MM-dd` (SPEC §6): recomputes a day of the live ranking from
// the paid orders in PostgreSQL, for a Redis that lost its data. Safe while the service runs: relay
// rounds wait, and the events already counted are remembered, so none is counted twice afterwards.
#include <boost/asio/awaitable.hpp>

#include "app/outbox_repository.hpp"
#include "app/ranking_store.hpp"

namespace ec::app {

struct RebuildReport {
    std::size_t products = 0;
    std::size_t orders = 0;
    std::int64_t units = 0;
};

class RebuildRanking {
public:
    RebuildRanking(OutboxRepository& outbox, RankingStore& store) : outbox_(outbox), store_(store) {}
    boost::asio::awaitable<RebuildReport> execute(domain::BusinessDate date);

private:
    OutboxRepository& outbox_;
    RankingStore& store_;
};

}  // namespace ec::app
