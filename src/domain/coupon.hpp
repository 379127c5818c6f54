#pragma once
// Coupons and the coupons users hold (SPEC §4.2, §7, §8).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ec::domain {

struct Coupon {
    std::int64_t id = 0;
    std::string name;
    std::int32_t discount_rate = 0;  // percent, 0..100
    std::int32_t total_quantity = 0;
    std::int32_t issued_quantity = 0;
    std::int64_t start_at_us = 0;
    std::int64_t end_at_us = 0;

    std::int32_t remaining() const { return total_quantity - issued_quantity; }
    // Issues and reservations are accepted from start to end, both inclusive.
    bool is_open_at(std::int64_t now_us) const { return start_at_us <= now_us && now_us <= end_at_us; }
};

// Where one user stands with an FCFS reservation of one coupon (SPEC §7,
// GET /api/coupons/{id}/reservations/{userId}).
enum class ReservationStatus { None, Reserved, Issued, Failed };
std::string_view to_string(ReservationStatus status);

// The n-th reservation of a coupon: 1 for the first, `total` for the last (SPEC §7.2).
inline std::int64_t reservation_sequence(std::int32_t total, std::int64_t remaining_after) {
    return static_cast<std::int64_t>(total) - remaining_after;
}

enum class UserCouponStatus { Available, Used, Expired };

std::string_view to_string(UserCouponStatus status);
UserCouponStatus user_coupon_status_from_db(std::string_view text);
// Case-insensitive "AVAILABLE" | "USED" | "EXPIRED"; else DomainError COMMON002.
UserCouponStatus parse_user_coupon_status(std::string_view text);

struct UserCoupon {
    std::int64_t id = 0;
    std::int64_t coupon_id = 0;
    std::string coupon_name;
    std::int32_t discount_rate = 0;
    UserCouponStatus status = UserCouponStatus::Available;
    std::int64_t issued_at_us = 0;
    std::optional<std::int64_t> used_at_us;
    std::int64_t expires_at_us = 0;
};

// The answer of a synchronous issue: the new user coupon and what is left of the coupon.
struct IssuedCoupon {
    UserCoupon user_coupon;
    std::int32_t remaining = 0;
};

}  // namespace ec::domain
