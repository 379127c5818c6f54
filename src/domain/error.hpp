#pragma once
// Business error codes of SPEC §4.1. The HTTP status of each code is decided in exactly one place:
// src/http/responses.cpp.
#include <stdexcept>
#include <string>
#include <string_view>

namespace ec::domain {

enum class ErrorCode {
    ProductNotFound,        // P001
    InsufficientStock,      // P002
    StockConflict,          // P003
    InvalidQuantity,        // O001
    OrderNotFound,          // O002
    InvalidOrderStatus,     // O003
    InsufficientBalance,    // PAY001
    PaymentDeclined,        // PAY002
    DuplicateInProgress,    // PAY003
    CouponSoldOut,          // C001
    InvalidCoupon,          // C002
    CouponExpired,          // C003
    CouponAlreadyIssued,    // C004
    UserNotFound,           // U001
    InvalidChargeAmount,    // U002
    CartNotFound,           // CART001
    CartItemNotFound,       // CART002
    Internal,               // COMMON001
    InvalidInput,           // COMMON002
    RouteNotFound,          // COMMON003
    MethodNotAllowed,       // COMMON004
    PayloadTooLarge,        // COMMON005
    UnsupportedMediaType,   // COMMON006
    DependencyUnavailable,  // COMMON007
};

std::string_view code_string(ErrorCode code) noexcept;

// A business-rule violation or a request the service refuses; carries its SPEC code and an
// English, specific message that is safe to show to clients.
class DomainError : public std::runtime_error {
public:
    DomainError(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
    ErrorCode code() const noexcept { return code_; }

private:
    ErrorCode code_;
};

}  // namespace ec::domain
