#include "app/get_user.hpp"

#include "domain/error.hpp"

namespace ec::app {

boost::asio::awaitable<domain::User> GetUser::execute(std::int64_t user_id) {
    auto user = co_await users_.find_by_id(user_id);
    if (!user) {
        throw domain::DomainError(domain::ErrorCode::UserNotFound,
                                  "User not found. userId: " + std::to_string(user_id));
    }
    co_return *user;
}

}  // namespace ec::app
