#pragma once
// A scratch database (ScratchDatabase) migrated to the current schema, with a connection pool over it
// whose completions run on two threads of its own: the set-up of integration tests that need tables no
// other test touches (their statistics, their rows). Everything is torn down in the destructor, the
// pool before its io_context and the database last.
#include <boost/asio.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "infra/postgres/migrator.hpp"
#include "infra/postgres/pg_pool.hpp"
#include "ops/config.hpp"
#include "ops/embedded_file.hpp"
#include "ops/metrics.hpp"
#include "support/run_on_strand.hpp"
#include "support/scratch_database.hpp"

namespace ec::test {

class MigratedScratchPool {
public:
    // `name` prefixes the database and names the pool; `configure` sets the pool's size and timeouts
    // (its URL is the scratch database's).
    MigratedScratchPool(const std::string& name, const std::function<void(ops::DatasourceConfig&)>& configure)
        : db_(name) {
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
        try {
            ops::DatasourceConfig ds;
            ds.url = db_.url();
            configure(ds);
            pool_ = infra::pg::PgPool::create(ioc_, ds, metrics_, name);
            pool_->start();
            run_on_strand(
                ioc_,
                [this]() -> boost::asio::awaitable<void> {
                    co_await infra::pg::migrate(*pool_, infra::pg::parse_migrations(embedded_migrations()));
                    co_return;
                },
                std::chrono::seconds(60));
        } catch (...) {
            stop();
            throw;
        }
    }
    ~MigratedScratchPool() { stop(); }
    MigratedScratchPool(const MigratedScratchPool&) = delete;
    MigratedScratchPool& operator=(const MigratedScratchPool&) = delete;

    boost::asio::io_context& ioc() { return ioc_; }
    const std::shared_ptr<infra::pg::PgPool>& pool() const { return pool_; }
    const std::string& url() const { return db_.url(); }

private:
    void stop() {
        if (pool_) pool_->stop();
        pool_.reset();
        work_.reset();
        for (auto& t : threads_) t.join();
        threads_.clear();
    }

    ScratchDatabase db_;  // declared first: dropped after everything below is gone
    boost::asio::io_context ioc_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
        ioc_.get_executor()};
    std::vector<std::thread> threads_;
    ops::MetricsRegistry metrics_;
    std::shared_ptr<infra::pg::PgPool> pool_;
};

}  // namespace ec::test
