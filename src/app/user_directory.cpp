#include "app/user_directory.hpp"

#include <spdlog/spdlog.h>

namespace ec::app {

UserDirectory::UserDirectory(UserRepository& users, std::chrono::milliseconds absent_ttl)
    : users_(users), absent_ttl_(absent_ttl) {}

boost::asio::awaitable<void> UserDirectory::load() {
    constexpr int kPage = 50'000;
    const auto started = Clock::now();
    std::int64_t after = 0;
    std::size_t loaded = 0;
    for (;;) {
        const auto ids = co_await users_.ids_after(after, kPage);
        {
            const std::scoped_lock lock(mutex_);
            known_.insert(ids.begin(), ids.end());
        }
        loaded += ids.size();
        if (ids.size() < static_cast<std::size_t>(kPage)) break;
        after = ids.back();
        spdlog::info("user directory: {} user ids loaded so far", loaded);
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    spdlog::info("user directory: {} user ids loaded in {} ms", loaded, ms);
    co_return;
}

boost::asio::awaitable<bool> UserDirectory::exists(std::int64_t user_id) {
    {
        const std::scoped_lock lock(mutex_);
        if (known_.contains(user_id)) co_return true;
        const auto it = absent_.find(user_id);
        if (it != absent_.end()) {
            if (Clock::now() < it->second) co_return false;
            absent_.erase(it);
        }
    }
    const bool found = (co_await users_.find_by_id(user_id)).has_value();
    const std::scoped_lock lock(mutex_);
    if (found) {
        known_.insert(user_id);
    } else {
        if (absent_.size() >= kMaxAbsent) absent_.clear();
        absent_[user_id] = Clock::now() + absent_ttl_;
    }
    co_return found;
}

std::size_t UserDirectory::known() const {
    const std::scoped_lock lock(mutex_);
    return known_.size();
}

}  // namespace ec::app
