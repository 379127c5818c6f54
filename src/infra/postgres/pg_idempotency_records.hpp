#pragma once
#include <memory>

#include "app/idempotency_records.hpp"

namespace ec::infra::pg {

class PgPool;

class PgIdempotencyRecords final : public app::IdempotencyRecords {
public:
    explicit PgIdempotencyRecords(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}
    boost::asio::awaitable<int> purge_expired(int limit) override;

private:
    std::shared_ptr<PgPool> pool_;
};

}  // namespace ec::infra::pg
