#pragma once
#include <memory>

#include "app/user_repository.hpp"

namespace ec::infra::pg {

class PgPool;

class PgUserRepository final : public app::UserRepository {
public:
    explicit PgUserRepository(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}
    boost::asio::awaitable<std::optional<domain::User>> find_by_id(std::int64_t id) override;
    boost::asio::awaitable<std::vector<std::int64_t>> ids_after(std::int64_t after, int limit) override;
    boost::asio::awaitable<app::ChargeOutcome> charge(std::int64_t user_id, const std::string& key,
                                                      std::int64_t amount, std::int64_t max_balance) override;

private:
    std::shared_ptr<PgPool> pool_;
};

}  // namespace ec::infra::pg
