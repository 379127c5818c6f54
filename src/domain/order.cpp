#include "domain/order.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "domain/error.hpp"

namespace ec::domain {

std::string_view to_string(OrderStatus status) {
    switch (status) {
        case OrderStatus::Pending:
            return "PENDING";
        case OrderStatus::Completed:
            return "COMPLETED";
        case OrderStatus::Cancelled:
            return "CANCELLED";
    }
    return "PENDING";
}

OrderStatus parse_order_status(std::string_view text) {
    std::string upper(text);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "PENDING") return OrderStatus::Pending;
    if (upper == "COMPLETED") return OrderStatus::Completed;
    if (upper == "CANCELLED") return OrderStatus::Cancelled;
    throw DomainError(ErrorCode::InvalidInput, "Invalid order status '" + std::string(text) +
                                                   "': use PENDING, COMPLETED or CANCELLED");
}

std::vector<OrderLineRequest> normalize_order_lines(std::vector<OrderLineRequest> lines) {
    if (lines.empty())
        throw DomainError(ErrorCode::InvalidInput, "Field 'items' must contain at least one item");
    for (const auto& line : lines) {
        if (line.quantity < 1) {
            throw DomainError(ErrorCode::InvalidQuantity,
                              "Quantity must be at least 1, got " + std::to_string(line.quantity) +
                                  " for productId " + std::to_string(line.product_id));
        }
    }
    std::sort(lines.begin(), lines.end(), [](const OrderLineRequest& a, const OrderLineRequest& b) {
        return a.product_id < b.product_id;
    });
    std::vector<OrderLineRequest> merged;
    for (const auto& line : lines) {
        if (!merged.empty() && merged.back().product_id == line.product_id) {
            merged.back().quantity += line.quantity;
        } else {
            merged.push_back(line);
        }
        if (merged.back().quantity > std::numeric_limits<std::int32_t>::max()) {
            throw DomainError(
                ErrorCode::InvalidInput,
                "Quantity of productId " + std::to_string(line.product_id) + " is out of range");
        }
    }
    return merged;
}

std::string order_fingerprint(const std::vector<OrderLineRequest>& normalized,
                              std::optional<std::int64_t> coupon_id) {
    std::string fp;
    for (const auto& line : normalized) {
        fp += std::to_string(line.product_id) + "x" + std::to_string(line.quantity) + ",";
    }
    fp += "coupon=" + (coupon_id ? std::to_string(*coupon_id) : std::string("none"));
    return fp;
}

}  // namespace ec::domain
