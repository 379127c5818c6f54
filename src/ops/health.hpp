#pragma once
// Health indicators as Spring Actuator reports them: each component answers
// {"status":"UP"|"DOWN","details":{...}}; the whole is UP only when every component is.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <vector>

namespace ec::ops {

class Health {
public:
    using Check = std::function<boost::asio::awaitable<boost::json::object>()>;

    // `for_readiness`: whether the component must be UP for /actuator/health/readiness.
    void add(std::string name, Check check, bool for_readiness);
    // {"status", "components":{name:{...}}}; `readiness_only` restricts to readiness components.
    boost::asio::awaitable<boost::json::object> check(bool readiness_only) const;

private:
    struct Entry {
        std::string name;
        Check check;
        bool readiness;
    };
    std::vector<Entry> entries_;
};

}  // namespace ec::ops
