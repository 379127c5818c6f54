#pragma once
// What a handler sees of one request: the parsed message, the matched route, typed access to path
// and query parameters and to the JSON body. Every accessor reports bad input as a DomainError
// (COMMON002 / COMMON006) naming the offending parameter or field.
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.hpp"
#include "http/types.hpp"

namespace ec::http {

class RequestContext {
public:
    RequestContext(const Request& req, const Route& route, std::vector<std::string_view> params,
                   std::string_view query, std::string request_id);

    const Request& request() const { return req_; }
    const Route& route() const { return route_; }
    const std::string& request_id() const { return request_id_; }

    std::int64_t path_id(std::string_view name) const;
    std::string_view path_string(std::string_view name) const;

    // Percent-decoded query parameter; nullopt when absent.
    std::optional<std::string> query(std::string_view name) const;
    std::optional<std::int64_t> query_int(std::string_view name) const;
    std::int64_t required_query_int(std::string_view name) const;

    // The body as a JSON object: 415 COMMON006 unless Content-Type is application/json, 400
    // COMMON002 when empty, malformed or not an object.
    const boost::json::object& json_body();

private:
    const Request& req_;
    const Route& route_;
    std::vector<std::string_view> params_;
    std::string_view query_;
    std::string request_id_;
    std::optional<boost::json::object> body_;
};

}  // namespace ec::http
