#include "app/complete_order.hpp"

#include <random>

#include "domain/error.hpp"

namespace ec::app {

namespace {
std::string random_key(std::string_view prefix) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string key(prefix);
    for (int i = 0; i < 32; ++i) key += kHex[rng() % 16];
    return key;
}
}  // namespace

boost::asio::awaitable<CompletedOrder> CompleteOrder::execute(CreateOrderRequest request) {
    if (request.idempotency_key.empty()) request.idempotency_key = random_key("complete-");
    const auto key = request.idempotency_key;
    const auto user_id = request.user_id;
    const auto created = co_await create_.execute(std::move(request));
    auto payment = co_await pay_.execute(created.id, user_id, key);
    auto order = co_await orders_.find(created.id);
    if (!order) throw domain::DomainError(domain::ErrorCode::Internal, "paid order vanished");
    co_return CompletedOrder{std::move(*order), std::move(payment)};
}

}  // namespace ec::app
