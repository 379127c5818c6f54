#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "app/outbox_repository.hpp"

namespace ec::infra::pg {

class PgPool;
class WalFlushBarrier;

// Failed events are retried after retry_backoff x 2^(attempts-1) (at most 5 minutes) and parked at
// max_attempts.
class PgOutboxRepository final : public app::OutboxRepository {
public:
    // `time_zone` is business.time-zone: it decides which orders belong to a day. With a `barrier`
    // (the one completions commit through), nothing read from the outbox or the orders reaches Redis
    // before it is durable.
    PgOutboxRepository(std::shared_ptr<PgPool> pool, int max_attempts,
                       std::chrono::milliseconds retry_backoff, std::string time_zone,
                       std::shared_ptr<WalFlushBarrier> barrier = nullptr)
        : pool_(std::move(pool)),
          max_attempts_(max_attempts),
          retry_backoff_(retry_backoff),
          time_zone_(std::move(time_zone)),
          barrier_(std::move(barrier)) {}

    boost::asio::awaitable<app::DrainResult> drain(int limit, Publish publish) override;
    boost::asio::awaitable<app::OutboxStats> stats() override;
    boost::asio::awaitable<void> with_day_sales(domain::BusinessDate date, WithDaySales with) override;
    boost::asio::awaitable<int> purge_published(std::chrono::milliseconds older_than, int limit) override;

private:
    std::shared_ptr<PgPool> pool_;
    int max_attempts_;
    std::chrono::milliseconds retry_backoff_;
    std::string time_zone_;
    std::shared_ptr<WalFlushBarrier> barrier_;
};

}  // namespace ec::infra::pg
