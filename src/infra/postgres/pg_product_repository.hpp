#pragma once
#include <memory>

#include "app/product_repository.hpp"

namespace ec::infra::pg {

class PgPool;

class PgProductRepository final : public app::ProductRepository {
public:
    explicit PgProductRepository(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}
    boost::asio::awaitable<std::vector<domain::Product>> all() override;
    boost::asio::awaitable<std::vector<domain::TopProduct>> top_selling(
        int days, int limit, const std::string& time_zone) override;

private:
    std::shared_ptr<PgPool> pool_;
};

}  // namespace ec::infra::pg
