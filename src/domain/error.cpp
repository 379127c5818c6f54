#include "domain/error.hpp"

namespace ec::domain {

std::string_view code_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::ProductNotFound:
            return "P001";
        case ErrorCode::InsufficientStock:
            return "P002";
        case ErrorCode::StockConflict:
            return "P003";
        case ErrorCode::InvalidQuantity:
            return "O001";
        case ErrorCode::OrderNotFound:
            return "O002";
        case ErrorCode::InvalidOrderStatus:
            return "O003";
        case ErrorCode::InsufficientBalance:
            return "PAY001";
        case ErrorCode::PaymentDeclined:
            return "PAY002";
        case ErrorCode::DuplicateInProgress:
            return "PAY003";
        case ErrorCode::CouponSoldOut:
            return "C001";
        case ErrorCode::InvalidCoupon:
            return "C002";
        case ErrorCode::CouponExpired:
            return "C003";
        case ErrorCode::CouponAlreadyIssued:
            return "C004";
        case ErrorCode::UserNotFound:
            return "U001";
        case ErrorCode::InvalidChargeAmount:
            return "U002";
        case ErrorCode::CartNotFound:
            return "CART001";
        case ErrorCode::CartItemNotFound:
            return "CART002";
        case ErrorCode::Internal:
            return "COMMON001";
        case ErrorCode::InvalidInput:
            return "COMMON002";
        case ErrorCode::RouteNotFound:
            return "COMMON003";
        case ErrorCode::MethodNotAllowed:
            return "COMMON004";
        case ErrorCode::PayloadTooLarge:
            return "COMMON005";
        case ErrorCode::UnsupportedMediaType:
            return "COMMON006";
        case ErrorCode::DependencyUnavailable:
            return "COMMON007";
    }
    return "COMMON001";
}

}  // namespace ec::domain
