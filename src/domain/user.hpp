#pragma once
// Users and balance rules (SPEC §4.2, §8).
#include <cstdint>
#include <string>

namespace ec::domain {

inline constexpr std::int64_t kMinChargeAmount = 1;
inline constexpr std::int64_t kMaxChargeAmount = 10'000'000;
inline constexpr std::int64_t kMaxBalance = 1'000'000'000'000'000;  // 10^15 KRW
inline constexpr std::size_t kMaxIdempotencyKeyLength = 100;

struct User {
    std::int64_t id = 0;
    std::string username;
    std::string email;
    std::int64_t balance = 0;
};

struct ChargeReceipt {
    std::int64_t user_id = 0;
    std::int64_t balance = 0;  // after the charge
    std::int64_t charged_amount = 0;
    std::int64_t charged_at_us = 0;  // epoch microseconds
};

// Throws DomainError U002 unless 1 <= amount <= 10,000,000.
void validate_charge_amount(std::int64_t amount);
// Throws DomainError COMMON002 when blank or longer than 100 characters.
void validate_idempotency_key(const std::string& key);

}  // namespace ec::domain
