#pragma once
// Route registration per API area: each function binds its paths to use cases and renders their
// results. Handlers only parse, call and render.
#include "http/router.hpp"

namespace ec::app {
class GetUser;
class ChargeBalance;
}  // namespace ec::app
namespace ec::ops {
class MetricsRegistry;
class Health;
}  // namespace ec::ops

namespace ec::http {

void register_user_routes(Router& router, app::GetUser& get_user, app::ChargeBalance& charge_balance);
void register_actuator_routes(Router& router, ops::MetricsRegistry& metrics, ops::Health& health);

}  // namespace ec::http
