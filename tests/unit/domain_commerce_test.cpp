// Pure rules of the commerce domain: catalogue selection, cart and order request validation,
// order/coupon status names.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "domain/cart.hpp"
#include "domain/coupon.hpp"
#include "domain/error.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"

namespace ec::domain {
namespace {

template <class F>
ErrorCode error_code_of(F&& f) {
    try {
        f();
    } catch (const DomainError& e) {
        return e.code();
    }
    ADD_FAILURE() << "expected a DomainError";
    return ErrorCode::Internal;
}

Product product(std::int64_t id, std::int64_t price, std::string category, std::int64_t created) {
    return Product{id, "p" + std::to_string(id), std::nullopt, price, 1, std::move(category), created};
}

std::vector<std::int64_t> ids(const std::vector<Product>& products) {
    std::vector<std::int64_t> out;
    for (const auto& p : products) out.push_back(p.id);
    return out;
}

const std::vector<Product> kCatalogue = {product(3, 500, "books", 30), product(1, 900, "tech", 10),
                                         product(2, 500, "tech", 20), product(4, 100, "books", 40)};

TEST(ProductSelection, NoSortIsByIdAndEmptyCategoryIsAll) {
    EXPECT_EQ(ids(select_products(kCatalogue, "", parse_product_sort(""))),
              (std::vector<std::int64_t>{1, 2, 3, 4}));
}

TEST(ProductSelection, PriceAscendingBreaksTiesById) {
    EXPECT_EQ(ids(select_products(kCatalogue, "", parse_product_sort("price"))),
              (std::vector<std::int64_t>{4, 2, 3, 1}));
    EXPECT_EQ(parse_product_sort("price_asc"), ProductSort::PriceAsc);
}

TEST(ProductSelection, PriceDescendingAndNewest) {
    EXPECT_EQ(ids(select_products(kCatalogue, "", parse_product_sort("price_desc"))),
              (std::vector<std::int64_t>{1, 2, 3, 4}));
    EXPECT_EQ(ids(select_products(kCatalogue, "", parse_product_sort("newest"))),
              (std::vector<std::int64_t>{4, 3, 2, 1}));
}

TEST(ProductSelection, CategoryIsAnExactMatch) {
    EXPECT_EQ(ids(select_products(kCatalogue, "books", ProductSort::ById)),
              (std::vector<std::int64_t>{3, 4}));
    EXPECT_TRUE(select_products(kCatalogue, "Books", ProductSort::ById).empty());
    auto uncategorised = kCatalogue;
    uncategorised[0].category.reset();
    EXPECT_EQ(ids(select_products(uncategorised, "books", ProductSort::ById)),
              (std::vector<std::int64_t>{4}));
}

TEST(ProductSelection, UnknownSortIsInvalidInput) {
    EXPECT_EQ(error_code_of([] { parse_product_sort("cheapest"); }), ErrorCode::InvalidInput);
    EXPECT_EQ(error_code_of([] { parse_product_sort("PRICE"); }), ErrorCode::InvalidInput);
}

TEST(CartRules, AddNeedsAtLeastOneAndSetAllowsZero) {
    EXPECT_EQ(error_code_of([] { validate_cart_add_quantity(0); }), ErrorCode::InvalidQuantity);
    EXPECT_EQ(error_code_of([] { validate_cart_add_quantity(-5); }), ErrorCode::InvalidQuantity);
    EXPECT_NO_THROW(validate_cart_add_quantity(1));
    EXPECT_NO_THROW(validate_cart_set_quantity(0));
    EXPECT_EQ(error_code_of([] { validate_cart_set_quantity(-1); }), ErrorCode::InvalidQuantity);
    EXPECT_EQ(error_code_of([] { validate_cart_add_quantity(std::int64_t{1} << 31); }),
              ErrorCode::InvalidInput);
}

TEST(CartRules, TotalsAndStockAvailability) {
    Cart cart{7, {CartLine{1, "a", 1000, 2, 5}, CartLine{2, "b", 300, 4, 3}}};
    EXPECT_EQ(cart.lines[0].subtotal(), 2000);
    EXPECT_TRUE(cart.lines[0].stock_available());
    EXPECT_FALSE(cart.lines[1].stock_available());
    EXPECT_EQ(cart.total(), 3200);
    EXPECT_EQ(Cart{}.total(), 0);
}

TEST(OrderLines, AreMergedPerProductAndSortedById) {
    const auto lines = normalize_order_lines({{5, 1}, {2, 3}, {5, 2}});
    EXPECT_EQ(lines, (std::vector<OrderLineRequest>{{2, 3}, {5, 3}}));
}

TEST(OrderLines, EmptyIsInvalidInputAndQuantityBelowOneIsO001) {
    EXPECT_EQ(error_code_of([] { normalize_order_lines({}); }), ErrorCode::InvalidInput);
    EXPECT_EQ(error_code_of([] { normalize_order_lines({{1, 0}}); }), ErrorCode::InvalidQuantity);
    EXPECT_EQ(error_code_of([] { normalize_order_lines({{1, 2}, {2, -1}}); }), ErrorCode::InvalidQuantity);
}

TEST(OrderLines, MergedQuantityMustFitInt32) {
    const std::int64_t big = std::numeric_limits<std::int32_t>::max();
    EXPECT_NO_THROW(normalize_order_lines({{1, big}}));
    EXPECT_EQ(error_code_of([&] { normalize_order_lines({{1, big}, {1, 1}}); }), ErrorCode::InvalidInput);
}

TEST(OrderFingerprint, SameRequestSameFingerprintWhateverTheLineOrder) {
    const auto a = order_fingerprint(normalize_order_lines({{2, 1}, {1, 1}}), 9);
    const auto b = order_fingerprint(normalize_order_lines({{1, 1}, {2, 1}}), 9);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, order_fingerprint(normalize_order_lines({{1, 1}, {2, 1}}), std::nullopt));
    EXPECT_NE(a, order_fingerprint(normalize_order_lines({{1, 2}, {2, 1}}), 9));
}

TEST(OrderStatus, ParsesCaseInsensitivelyAndRefusesUnknown) {
    EXPECT_EQ(parse_order_status("pending"), OrderStatus::Pending);
    EXPECT_EQ(parse_order_status("Completed"), OrderStatus::Completed);
    EXPECT_EQ(parse_order_status("CANCELLED"), OrderStatus::Cancelled);
    EXPECT_EQ(to_string(OrderStatus::Completed), "COMPLETED");
    EXPECT_EQ(error_code_of([] { parse_order_status("PAID"); }), ErrorCode::InvalidInput);
}

TEST(UserCouponStatus, ParsesCaseInsensitivelyAndRefusesUnknown) {
    EXPECT_EQ(parse_user_coupon_status("available"), UserCouponStatus::Available);
    EXPECT_EQ(parse_user_coupon_status("USED"), UserCouponStatus::Used);
    EXPECT_EQ(to_string(UserCouponStatus::Expired), "EXPIRED");
    EXPECT_EQ(error_code_of([] { parse_user_coupon_status("gone"); }), ErrorCode::InvalidInput);
    EXPECT_THROW(user_coupon_status_from_db("available"),
                 std::runtime_error);  // the database stores upper case
}

TEST(CouponRemaining, IsTotalMinusIssued) {
    Coupon c;
    c.total_quantity = 100;
    c.issued_quantity = 37;
    EXPECT_EQ(c.remaining(), 63);
}

}  // namespace
}  // namespace ec::domain
