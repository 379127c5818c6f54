#pragma once
// Port: the PostgreSQL copy of each day's top products (product_ranking_backup, SPEC §6), read when
// the live ranking cannot answer. Implemented by infra/postgres/pg_ranking_backup_repository.
#include <boost/asio/awaitable.hpp>
#include <vector>

#include "domain/ranking.hpp"

namespace ec::app {

class RankingBackupRepository {
public:
    virtual ~RankingBackupRepository() = default;
    // The stored rows of `date` in rank order, at most `limit`.
    virtual boost::asio::awaitable<std::vector<domain::RankedProduct>> load(domain::BusinessDate date,
                                                                            int limit) = 0;
    // Replaces the rows of `date` with `rows` in one transaction, unless another instance is doing
    // the same right now (advisory lock): then nothing is written and false is returned.
    virtual boost::asio::awaitable<bool> replace(domain::BusinessDate date,
                                                 const std::vector<domain::RankedProduct>& rows) = 0;
};

}  // namespace ec::app
