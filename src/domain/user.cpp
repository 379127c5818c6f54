#include "domain/user.hpp"

#include <algorithm>
#include <cctype>

#include "domain/error.hpp"

namespace ec::domain {

void validate_charge_amount(std::int64_t amount) {
    if (amount < kMinChargeAmount || amount > kMaxChargeAmount) {
        throw DomainError(
            ErrorCode::InvalidChargeAmount,
            "Charge amount must be between 1 and 10,000,000 KRW, got " + std::to_string(amount));
    }
}

void validate_idempotency_key(const std::string& key) {
    const bool blank =
        std::all_of(key.begin(), key.end(), [](unsigned char c) { return std::isspace(c) != 0; });
    if (blank) throw DomainError(ErrorCode::InvalidInput, "Field 'idempotencyKey' must not be blank");
    // The limit is in characters (VARCHAR(100)), so count UTF-8 code points, not bytes.
    const auto chars =
        std::count_if(key.begin(), key.end(), [](unsigned char c) { return (c & 0xC0) != 0x80; });
    if (static_cast<std::size_t>(chars) > kMaxIdempotencyKeyLength) {
        throw DomainError(ErrorCode::InvalidInput, "Field 'idempotencyKey' must be at most 100 characters");
    }
}

}  // namespace ec::domain
