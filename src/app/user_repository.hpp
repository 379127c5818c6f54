#pragma once
// Port: persistence of users and balances. Implemented by infra/postgres/pg_user_repository.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/user.hpp"

namespace ec::app {

struct ChargeOutcome {
    enum class Kind { Charged, Replayed, KeyReused, UserNotFound, BalanceLimit };
    Kind kind = Kind::Charged;
    domain::ChargeReceipt receipt;  // for Charged and Replayed
};

class UserRepository {
public:
    virtual ~UserRepository() = default;
    virtual boost::asio::awaitable<std::optional<domain::User>> find_by_id(std::int64_t id) = 0;
    // Up to `limit` user ids greater than `after`, ascending (to page through all users).
    virtual boost::asio::awaitable<std::vector<std::int64_t>> ids_after(std::int64_t after, int limit) = 0;
    // Atomically: records (user, "CHARGE", key) and adds `amount`, unless the key was used before
    // (then returns the stored receipt) or the result would exceed max_balance. Same-key requests
    // running at once produce one effect; the later ones wait and replay.
    virtual boost::asio::awaitable<ChargeOutcome> charge(std::int64_t user_id, const std::string& key,
                                                         std::int64_t amount, std::int64_t max_balance) = 0;
};

}  // namespace ec::app
