#include "app/create_order.hpp"

#include "domain/error.hpp"
#include "domain/user.hpp"
#include "ops/metrics.hpp"

namespace ec::app {

using domain::DomainError;
using domain::ErrorCode;
using Kind = CreateOrderOutcome::Kind;

CreateOrder::CreateOrder(OrderRepository& orders, ops::MetricsRegistry& metrics)
    : orders_(orders),
      created_(metrics.counter("orders", "Order creations", {{"result", "success"}})),
      refused_(metrics.counter("orders", "Order creations", {{"result", "failure"}})) {}

boost::asio::awaitable<domain::Order> CreateOrder::execute(CreateOrderRequest request) {
    try {
        auto order = co_await create(request);
        created_.increment();
        co_return order;
    } catch (const DomainError&) {
        refused_.increment();
        throw;
    }
}

boost::asio::awaitable<domain::Order> CreateOrder::create(CreateOrderRequest& request) {
    domain::validate_idempotency_key(request.idempotency_key);
    const auto lines = domain::normalize_order_lines(std::move(request.lines));
    const auto fingerprint = domain::order_fingerprint(lines, request.coupon_id);
    const auto user = request.user_id;
    const auto out =
        co_await orders_.create(user, request.idempotency_key, fingerprint, lines, request.coupon_id);
    const auto coupon = "couponId: " + std::to_string(request.coupon_id.value_or(0));
    switch (out.kind) {
        case Kind::Created:
        case Kind::Replayed:
            co_return std::move(*out.order);
        case Kind::KeyReused:
            throw DomainError(ErrorCode::InvalidInput,
                              "idempotencyKey '" + request.idempotency_key +
                                  "' was already used for a different order request");
        case Kind::UserNotFound:
            throw DomainError(ErrorCode::UserNotFound, "User not found. userId: " + std::to_string(user));
        case Kind::ProductNotFound:
            throw DomainError(ErrorCode::ProductNotFound,
                              "Product not found. productId: " + std::to_string(out.product_id));
        case Kind::InsufficientStock:
            throw DomainError(ErrorCode::InsufficientStock,
                              "Insufficient stock. product: " + out.detail +
                                  " (requested: " + std::to_string(out.requested) +
                                  ", in stock: " + std::to_string(out.stock) + ")");
        case Kind::CouponNotFound:
            throw DomainError(ErrorCode::InvalidCoupon, "Coupon not found. " + coupon);
        case Kind::CouponNotOwned:
            throw DomainError(ErrorCode::InvalidCoupon, "The user does not hold this coupon. userId: " +
                                                            std::to_string(user) + ", " + coupon);
        case Kind::CouponNotUsable:
            throw DomainError(ErrorCode::InvalidCoupon,
                              "Coupon cannot be used, its status is " + out.detail + ". " + coupon);
        case Kind::CouponExpired:
            throw DomainError(ErrorCode::CouponExpired, "Coupon is expired or not yet started. " + coupon);
    }
    throw DomainError(ErrorCode::Internal, "unexpected order outcome");
}

}  // namespace ec::app
