#pragma once
// Route table with typed path parameters. Patterns look like "/api/users/{userId}/balance";
// "{name}" is an int64 id (the API's ids are all Long), "{name:string}" any non-empty segment.
// Literal segments beat parameters, so "/api/products/top" wins over "/api/products/{productId}".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/types.hpp"

namespace ec::http {

struct Route {
    struct Segment {
        std::string literal;  // empty for a parameter
        std::string param;    // parameter name
        bool is_int = true;
    };
    bhttp::verb method;
    std::string pattern;  // also the `uri` label of http.server.requests
    std::vector<Segment> segments;
    Handler handler;
    int index = 0;
};

struct RouteMatch {
    enum class Kind { Found, NotFound, MethodNotAllowed, BadParameter };
    Kind kind = Kind::NotFound;
    const Route* route = nullptr;
    std::vector<std::string_view> params;  // raw values, in pattern order
    std::string allow;                     // for MethodNotAllowed: "GET, POST"
    std::string error;                     // for BadParameter: the message
};

class Router {
public:
    // Throws std::invalid_argument on a malformed pattern or a duplicate (method, pattern).
    void add(bhttp::verb method, std::string_view pattern, Handler handler);
    RouteMatch match(bhttp::verb method, std::string_view path) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    std::vector<Route> routes_;
};

// Splits "/a/b/" into {"a","b"}; empty segments are dropped.
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace ec::http
