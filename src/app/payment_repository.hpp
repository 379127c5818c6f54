#pragma once
// Port: the database side of the payment saga (SPEC §8). Implemented by
// infra/postgres/pg_payment_repository on the payment_* functions of migrations/V002.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "domain/order.hpp"

namespace ec::app {

struct ReserveOutcome {
    enum class Kind {
        Reserved,    // balance, stock and coupon taken; the key's record is PROCESSING
        Replayed,    // the key completed before: `receipt`
        Declined,    // the key was declined before: `message`
        InProgress,  // the key's payment is still running
        KeyReused,   // the key was used for another order
        OrderNotFound,
        UserNotFound,
        NotOwner,
        BadStatus,  // `message` = the order's status
        OtherPaymentInProgress,
        InsufficientBalance,  // `amount` needed, `balance` held
        InsufficientStock,    // `message` = product name, `amount` requested, `balance` = stock
        CouponNotUsable,      // `message` = the user coupon's status
    };
    Kind kind = Kind::Reserved;
    domain::PaymentReceipt receipt;
    std::string message;
    std::int64_t amount = 0;
    std::int64_t balance = 0;
};

class PaymentRepository {
public:
    virtual ~PaymentRepository() = default;
    // Step 1: one transaction locking order, user and products (ascending id).
    virtual boost::asio::awaitable<ReserveOutcome> reserve(std::int64_t order_id, std::int64_t user_id,
                                                           const std::string& key) = 0;
    // Step 3 on approval: order COMPLETED, outbox event and idempotency record in one transaction.
    // `reserved` is step 1's outcome: its amount and balance are the receipt's. nullopt when the
    // reservation is no longer PROCESSING (it was compensated meanwhile).
    virtual boost::asio::awaitable<std::optional<domain::PaymentReceipt>> complete(
        std::int64_t order_id, std::int64_t user_id, const std::string& key, const ReserveOutcome& reserved,
        const std::string& transmission) = 0;
    // Step 3 on decline: restores balance, stock and coupon, records the decline under the key.
    virtual boost::asio::awaitable<void> compensate(std::int64_t user_id, const std::string& key,
                                                    const std::string& message) = 0;
    // Compensates up to `limit` reservations left PROCESSING for longer than `older_than` (their
    // instance died between step 1 and step 3); returns the ids of the orders released. With a
    // `lookback`, only reservations made within that long before now are looked at (a cheap sweep);
    // without, all of them.
    virtual boost::asio::awaitable<std::vector<std::int64_t>> recover_stale(
        std::chrono::milliseconds older_than, int limit,
        std::optional<std::chrono::milliseconds> lookback) = 0;
};

}  // namespace ec::app
