#pragma once
// Response builders and THE mapping from errors to HTTP statuses and SPEC error bodies
// ({"code","message","timestamp"}). Nothing else in the service decides an error status.
#include <boost/json/value.hpp>
#include <exception>
#include <string_view>

#include "domain/error.hpp"
#include "http/types.hpp"

namespace ec::http {

Response json_response(bhttp::status status, const boost::json::value& body);
// A body already serialized (JsonWriter).
Response json_response(bhttp::status status, std::string body);
bhttp::status status_for(domain::ErrorCode code);
Response error_response(domain::ErrorCode code, std::string_view message);
// Protocol-level refusals whose status is not implied by the code (431 uses COMMON002).
Response error_response(bhttp::status status, domain::ErrorCode code, std::string_view message);
// Maps whatever a handler threw: DomainError -> its code; dependency failures -> 503 COMMON007;
// anything else -> 500 COMMON001 with a generic message (details only in the log).
Response response_for_exception(std::exception_ptr error, std::string_view request_id);

}  // namespace ec::http
