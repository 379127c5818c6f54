#pragma once
#include <boost/asio/awaitable.hpp>

#include "app/user_repository.hpp"

namespace ec::app {

// GET /api/users/{id} and /balance: the user or 404 U001.
class GetUser {
public:
    explicit GetUser(UserRepository& users) : users_(users) {}
    boost::asio::awaitable<domain::User> execute(std::int64_t user_id);

private:
    UserRepository& users_;
};

}  // namespace ec::app
