#include "http/responses.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include "app/errors.hpp"
#include "http/json_codec.hpp"

namespace ec::http {

using domain::ErrorCode;

Response json_response(bhttp::status status, const boost::json::value& body) {
    return json_response(status, boost::json::serialize(body));
}

Response json_response(bhttp::status status, std::string body) {
    Response res{status, 11};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

bhttp::status status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::ProductNotFound:
        case ErrorCode::OrderNotFound:
        case ErrorCode::UserNotFound:
        case ErrorCode::CartNotFound:
        case ErrorCode::CartItemNotFound:
        case ErrorCode::RouteNotFound:
            return bhttp::status::not_found;
        case ErrorCode::InsufficientStock:
        case ErrorCode::StockConflict:
        case ErrorCode::InsufficientBalance:
        case ErrorCode::DuplicateInProgress:
        case ErrorCode::CouponSoldOut:
            return bhttp::status::conflict;
        case ErrorCode::InvalidQuantity:
        case ErrorCode::InvalidOrderStatus:
        case ErrorCode::InvalidCoupon:
        case ErrorCode::CouponExpired:
        case ErrorCode::CouponAlreadyIssued:
        case ErrorCode::InvalidChargeAmount:
        case ErrorCode::InvalidInput:
            return bhttp::status::bad_request;
        case ErrorCode::PaymentDeclined:
            return bhttp::status::payment_required;
        case ErrorCode::MethodNotAllowed:
            return bhttp::status::method_not_allowed;
        case ErrorCode::PayloadTooLarge:
            return bhttp::status::payload_too_large;
        case ErrorCode::UnsupportedMediaType:
            return bhttp::status::unsupported_media_type;
        case ErrorCode::DependencyUnavailable:
            return bhttp::status::service_unavailable;
        case ErrorCode::Internal:
            return bhttp::status::internal_server_error;
    }
    return bhttp::status::internal_server_error;
}

Response error_response(bhttp::status status, ErrorCode code, std::string_view message) {
    return json_response(status, boost::json::object{{"code", domain::code_string(code)},
                                                     {"message", message},
                                                     {"timestamp", json::now_local_datetime()}});
}

Response error_response(ErrorCode code, std::string_view message) {
    return error_response(status_for(code), code, message);
}

Response response_for_exception(std::exception_ptr error, std::string_view request_id) {
    try {
        std::rethrow_exception(error);
    } catch (const domain::DomainError& e) {
        return error_response(e.code(), e.what());
    } catch (const app::DependencyUnavailable& e) {
        spdlog::warn("[{}] dependency unavailable: {}", request_id, e.what());
        return error_response(ErrorCode::DependencyUnavailable,
                              "A required service is temporarily unavailable");
    } catch (const std::exception& e) {
        spdlog::error("[{}] unhandled error: {}", request_id, e.what());
    } catch (...) {
        spdlog::error("[{}] unhandled non-standard exception", request_id);
    }
    return error_response(ErrorCode::Internal, "Internal server error");
}

}  // namespace ec::http
