#pragma once
#include <memory>

#include "app/cart_repository.hpp"

namespace ec::infra::pg {

class PgPool;

class PgCartRepository final : public app::CartRepository {
public:
    explicit PgCartRepository(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}
    boost::asio::awaitable<std::optional<domain::Cart>> find(std::int64_t user_id) override;
    boost::asio::awaitable<app::CartChange> add(std::int64_t user_id, std::int64_t product_id,
                                                std::int32_t quantity) override;
    boost::asio::awaitable<app::CartChange> set_quantity(std::int64_t user_id, std::int64_t product_id,
                                                         std::int32_t quantity) override;

private:
    std::shared_ptr<PgPool> pool_;
};

}  // namespace ec::infra::pg
