#pragma once
// The periodic ranking backup (SPEC §6): today's top `size` from Redis, with catalogue names, copied
// to product_ranking_backup so the ranking survives a Redis failure. Run every
// ranking.backup.interval by every instance; the repository lets one of them write at a time.
#include <boost/asio/awaitable.hpp>

#include "app/product_catalog.hpp"
#include "app/ranking_backup_repository.hpp"
#include "app/ranking_store.hpp"

namespace ec::app {

class BackupRanking {
public:
    BackupRanking(RankingStore& store, RankingBackupRepository& backup, ProductCatalog& catalog, int size)
        : store_(store), backup_(backup), catalog_(catalog), size_(size) {}

    // Rows written; 0 when today's ranking is empty, Redis is unavailable (the last backup is
    // kept rather than replaced by nothing) or another instance held the lock.
    boost::asio::awaitable<std::size_t> execute();

private:
    RankingStore& store_;
    RankingBackupRepository& backup_;
    ProductCatalog& catalog_;
    int size_;
};

}  // namespace ec::app
