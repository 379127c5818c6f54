#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>

#include "app/user_repository.hpp"

namespace ec::app {

// POST /api/users/{id}/balance/charge with synchronous, transactional idempotency (SPEC §8).
class ChargeBalance {
public:
    explicit ChargeBalance(UserRepository& users) : users_(users) {}
    boost::asio::awaitable<domain::ChargeReceipt> execute(std::int64_t user_id, std::int64_t amount,
                                                          const std::string& idempotency_key);

private:
    UserRepository& users_;
};

}  // namespace ec::app
