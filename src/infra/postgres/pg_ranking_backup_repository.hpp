#pragma once
#include <memory>

#include "app/ranking_backup_repository.hpp"

namespace ec::infra::pg {

class PgPool;

class PgRankingBackupRepository final : public app::RankingBackupRepository {
public:
    explicit PgRankingBackupRepository(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}
    boost::asio::awaitable<std::vector<domain::RankedProduct>> load(domain::BusinessDate date,
                                                                    int limit) override;
    boost::asio::awaitable<bool> replace(domain::BusinessDate date,
                                         const std::vector<domain::RankedProduct>& rows) override;

private:
    std::shared_ptr<PgPool> pool_;
};

}  // namespace ec::infra::pg
