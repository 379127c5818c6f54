#include "domain/coupon.hpp"

#include <cctype>

#include "domain/error.hpp"

namespace ec::domain {

std::string_view to_string(UserCouponStatus status) {
    switch (status) {
        case UserCouponStatus::Available:
            return "AVAILABLE";
        case UserCouponStatus::Used:
            return "USED";
        case UserCouponStatus::Expired:
            return "EXPIRED";
    }
    return "AVAILABLE";
}

std::string_view to_string(ReservationStatus status) {
    switch (status) {
        case ReservationStatus::None:
            return "NONE";
        case ReservationStatus::Reserved:
            return "RESERVED";
        case ReservationStatus::Issued:
            return "ISSUED";
        case ReservationStatus::Failed:
            return "FAILED";
    }
    return "NONE";
}

namespace {
std::optional<UserCouponStatus> match(std::string_view upper) {
    if (upper == "AVAILABLE") return UserCouponStatus::Available;
    if (upper == "USED") return UserCouponStatus::Used;
    if (upper == "EXPIRED") return UserCouponStatus::Expired;
    return std::nullopt;
}
}  // namespace

UserCouponStatus user_coupon_status_from_db(std::string_view text) {
    const auto status = match(text);
    if (!status) throw std::runtime_error("unknown user coupon status in the database: " + std::string(text));
    return *status;
}

UserCouponStatus parse_user_coupon_status(std::string_view text) {
    std::string upper(text);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto status = match(upper);
    if (!status) {
        throw DomainError(ErrorCode::InvalidInput, "Invalid coupon status '" + std::string(text) +
                                                       "': use AVAILABLE, USED or EXPIRED");
    }
    return *status;
}

}  // namespace ec::domain
