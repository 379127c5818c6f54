#pragma once
// Which user ids exist, kept in memory so the FCFS reservation path validates its user without a
// database round trip (SPEC §7.1). Users are never deleted, so a known id stays known; an unknown
// id is asked of the database and the "no" remembered briefly (so a flood of bad ids costs at most
// one query per id per `absent_ttl`). load() pages through all ids once at start; until it is done,
// lookups just ask the database.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "app/user_repository.hpp"

namespace ec::app {

class UserDirectory {
public:
    UserDirectory(UserRepository& users, std::chrono::milliseconds absent_ttl);

    // Reads every user id, 50,000 per query; logs progress. Safe to run while lookups happen.
    boost::asio::awaitable<void> load();
    // Throws DependencyUnavailable only when the id is not known and the database is down.
    boost::asio::awaitable<bool> exists(std::int64_t user_id);
    std::size_t known() const;

private:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kMaxAbsent = 100'000;  // bounded: cleared when full

    UserRepository& users_;
    std::chrono::milliseconds absent_ttl_;
    mutable std::mutex mutex_;
    std::unordered_set<std::int64_t> known_;
    std::unordered_map<std::int64_t, Clock::time_point> absent_;  // id -> when the "no" expires
};

}  // namespace ec::app
