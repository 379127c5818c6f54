#include "app/pay_order.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/errors.hpp"
#include "domain/error.hpp"
#include "domain/user.hpp"
#include "ops/metrics.hpp"

namespace ec::app {

namespace asio = boost::asio;
using domain::DomainError;
using domain::ErrorCode;
using Kind = ReserveOutcome::Kind;

PayOrder::PayOrder(PaymentRepository& payments, PaymentGateway& gateway, ProductCatalog& catalog,
                   OutboxSignal& outbox, ops::MetricsRegistry& metrics,
                   std::chrono::milliseconds in_progress_wait)
    : payments_(payments),
      gateway_(gateway),
      catalog_(catalog),
      outbox_(outbox),
      in_progress_wait_(in_progress_wait),
      succeeded_(metrics.counter("payment", "Order payments", {{"result", "success"}})),
      failed_(metrics.counter("payment", "Order payments", {{"result", "failure"}})) {}

asio::awaitable<domain::PaymentReceipt> PayOrder::execute(std::int64_t order_id, std::int64_t user_id,
                                                          const std::string& idempotency_key) {
    try {
        auto receipt = co_await pay(order_id, user_id, idempotency_key);
        succeeded_.increment();
        co_return receipt;
    } catch (const DomainError&) {
        failed_.increment();
        throw;
    }
}

// A same-key request that finds the first one still running polls its record with a growing
// pause (2 ms .. 50 ms) until it finishes or `in_progress_wait` passes (then 409 PAY003).
asio::awaitable<ReserveOutcome> PayOrder::reserve_waiting_for_twin(std::int64_t order_id,
                                                                   std::int64_t user_id,
                                                                   const std::string& key) {
    const auto deadline = std::chrono::steady_clock::now() + in_progress_wait_;
    auto pause = std::chrono::milliseconds(2);
    for (;;) {
        auto outcome = co_await payments_.reserve(order_id, user_id, key);
        if (outcome.kind != Kind::InProgress) co_return outcome;
        if (std::chrono::steady_clock::now() + pause > deadline) {
            throw DomainError(ErrorCode::DuplicateInProgress, "A payment with idempotencyKey '" + key +
                                                                  "' is still in progress; retry later");
        }
        asio::steady_timer timer(co_await asio::this_coro::executor, pause);
        co_await timer.async_wait(asio::use_awaitable);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

asio::awaitable<domain::PaymentReceipt> PayOrder::pay(std::int64_t order_id, std::int64_t user_id,
                                                      const std::string& key) {
    domain::validate_idempotency_key(key);
    const auto order = "orderId: " + std::to_string(order_id);
    const auto r = co_await reserve_waiting_for_twin(order_id, user_id, key);
    switch (r.kind) {
        case Kind::Reserved:
            break;
        case Kind::Replayed:
            co_return r.receipt;
        case Kind::Declined:
            throw DomainError(ErrorCode::PaymentDeclined, r.message);
        case Kind::InProgress:  // handled by reserve_waiting_for_twin
        case Kind::OtherPaymentInProgress:
            throw DomainError(ErrorCode::DuplicateInProgress,
                              "Another payment of this order is in progress; retry later. " + order);
        case Kind::KeyReused:
            throw DomainError(ErrorCode::InvalidInput,
                              "idempotencyKey '" + key + "' was already used to pay a different order");
        case Kind::OrderNotFound:
            throw DomainError(ErrorCode::OrderNotFound, "Order not found. " + order);
        case Kind::UserNotFound:
            throw DomainError(ErrorCode::UserNotFound, "User not found. userId: " + std::to_string(user_id));
        case Kind::NotOwner:
            throw DomainError(ErrorCode::InvalidInput, "The order does not belong to userId " +
                                                           std::to_string(user_id) + ". " + order);
        case Kind::BadStatus:
            throw DomainError(ErrorCode::InvalidOrderStatus,
                              "The order cannot be paid, its status is " + r.message + ". " + order);
        case Kind::InsufficientBalance:
            throw DomainError(ErrorCode::InsufficientBalance,
                              "Insufficient balance (needed: " + std::to_string(r.amount) +
                                  " KRW, held: " + std::to_string(r.balance) + " KRW)");
        case Kind::InsufficientStock:
            throw DomainError(ErrorCode::InsufficientStock, "Insufficient stock. product: " + r.message +
                                                                " (requested: " + std::to_string(r.amount) +
                                                                ", in stock: " + std::to_string(r.balance) +
                                                                ")");
        case Kind::CouponNotUsable:
            throw DomainError(ErrorCode::InvalidCoupon,
                              "The order's coupon cannot be used, its status is " + r.message + ". " + order);
    }
    catalog_.stock_changed();

    GatewayResult result;
    try {
        result = co_await gateway_.charge(order_id, user_id, r.amount, key);
    } catch (const std::exception& e) {
        // The gateway's answer is unknown; refunding is the safe side for a mock-backed gateway.
        spdlog::error("payment gateway failed for order {}: {}", order_id, e.what());
        result = GatewayResult{false, {}, "Payment gateway error"};
    }

    if (result.approved) {
        auto receipt =
            co_await payments_.complete(order_id, user_id, key, r, "PG_APPROVED: " + result.transaction_id);
        if (receipt) {
            outbox_
                .notify();  // the commit wrote an OrderCompleted event: publish it now, not at the next poll
            co_return std::move(*receipt);
        }
        throw DomainError(ErrorCode::PaymentDeclined,
                          "The payment was rolled back before it could complete. " + order);
    }
    const auto message = "Payment gateway declined: " + result.message;
    co_await payments_.compensate(user_id, key, message);
    catalog_.stock_changed();
    throw DomainError(ErrorCode::PaymentDeclined, message);
}

}  // namespace ec::app
