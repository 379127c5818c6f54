#pragma once
// Orders and payments (SPEC §8). The transactional rules (price snapshot, stock and coupon checks,
// discount = floor(subtotal x rate / 100), the payment's locks) are enforced where the data is: the
// plpgsql functions of migrations/V002__commerce.sql. This header holds what is decided before that:
// request normalisation and the names of states.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec::domain {

enum class OrderStatus { Pending, Completed, Cancelled };

std::string_view to_string(OrderStatus status);
// Case-insensitive "PENDING" | "COMPLETED" | "CANCELLED"; else DomainError COMMON002.
OrderStatus parse_order_status(std::string_view text);

struct OrderLineRequest {
    std::int64_t product_id = 0;
    std::int64_t quantity = 0;
    bool operator==(const OrderLineRequest&) const = default;
};

// Validates and canonicalises the requested lines: at least one (COMMON002), each quantity >= 1
// (O001), lines of one product merged, sorted by product id, merged quantities within int32.
std::vector<OrderLineRequest> normalize_order_lines(std::vector<OrderLineRequest> lines);

// Identifies an order request under its idempotency key: the same key with a different request is
// refused instead of silently answering with another order.
std::string order_fingerprint(const std::vector<OrderLineRequest>& normalized,
                              std::optional<std::int64_t> coupon_id);

struct OrderItem {
    std::int64_t product_id = 0;
    std::string product_name;
    std::int32_t quantity = 0;
    std::int64_t unit_price = 0;
    std::int64_t subtotal = 0;
};

struct Order {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string order_number;
    std::vector<OrderItem> items;  // by product id
    std::int64_t subtotal_amount = 0;
    std::int64_t discount_amount = 0;
    std::int64_t total_amount = 0;
    OrderStatus status = OrderStatus::Pending;
    std::int64_t created_at_us = 0;
};

struct PaymentReceipt {
    std::int64_t order_id = 0;
    std::int64_t paid_amount = 0;
    std::int64_t remaining_balance = 0;
    std::string data_transmission;  // "PG_APPROVED: <gateway transaction id>"
    std::int64_t paid_at_us = 0;
};

}  // namespace ec::domain
