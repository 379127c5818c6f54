#pragma once
// Route registration per API area: each function binds its paths to use cases and renders their
// results. Handlers only parse, call and render.
#include "http/router.hpp"

namespace ec::app {
class GetUser;
class ChargeBalance;
class GetProducts;
class GetTopProducts;
class GetRanking;
class AddCartItem;
class GetCart;
class UpdateCartItem;
class IssueCoupon;
class GetCoupons;
class ReserveCoupon;
class GetReservationStatus;
class CreateOrder;
class GetOrders;
class PayOrder;
class CompleteOrder;
}  // namespace ec::app
namespace ec::ops {
class MetricsRegistry;
class Health;
}  // namespace ec::ops

namespace ec::http {

void register_user_routes(Router& router, app::GetUser& get_user, app::ChargeBalance& charge_balance);
void register_product_routes(Router& router, app::GetProducts& get_products, app::GetTopProducts& get_top);
void register_ranking_routes(Router& router, app::GetRanking& ranking);
void register_cart_routes(Router& router, app::AddCartItem& add, app::GetCart& get,
                          app::UpdateCartItem& update);
struct CouponUseCases {
    app::IssueCoupon& issue;
    app::GetCoupons& get;
    app::ReserveCoupon& reserve;
    app::GetReservationStatus& reservation_status;
};
void register_coupon_routes(Router& router, const CouponUseCases& coupons);

struct OrderUseCases {
    app::CreateOrder& create;
    app::GetOrders& get;
    app::PayOrder& pay;
    app::CompleteOrder& complete;
};
void register_order_routes(Router& router, const OrderUseCases& use_cases);
void register_actuator_routes(Router& router, ops::MetricsRegistry& metrics, ops::Health& health);

}  // namespace ec::http
