#include "app/charge_balance.hpp"

#include "domain/error.hpp"

namespace ec::app {

using domain::DomainError;
using domain::ErrorCode;

boost::asio::awaitable<domain::ChargeReceipt> ChargeBalance::execute(std::int64_t user_id,
                                                                     std::int64_t amount,
                                                                     const std::string& idempotency_key) {
    domain::validate_idempotency_key(idempotency_key);
    domain::validate_charge_amount(amount);
    const auto outcome = co_await users_.charge(user_id, idempotency_key, amount, domain::kMaxBalance);
    switch (outcome.kind) {
        case ChargeOutcome::Kind::Charged:
        case ChargeOutcome::Kind::Replayed:
            co_return outcome.receipt;
        case ChargeOutcome::Kind::UserNotFound:
            throw DomainError(ErrorCode::UserNotFound, "User not found. userId: " + std::to_string(user_id));
        case ChargeOutcome::Kind::BalanceLimit:
            throw DomainError(ErrorCode::InvalidChargeAmount,
                              "Charge would raise the balance above the limit of 10^15 KRW. userId: " +
                                  std::to_string(user_id));
        case ChargeOutcome::Kind::KeyReused:
            throw DomainError(ErrorCode::InvalidInput, "idempotencyKey '" + idempotency_key +
                                                           "' was already used for a different amount");
    }
    throw DomainError(ErrorCode::Internal, "unexpected charge outcome");
}

}  // namespace ec::app
