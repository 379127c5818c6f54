#pragma once
// JSON field extraction with the SPEC's error contract (missing or ill-typed field -> 400 COMMON002
// naming the field) and the wire formats of timestamps and dates.
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec::http::json {

std::int64_t required_int64(const boost::json::object& obj, std::string_view field);
std::optional<std::int64_t> optional_int64(const boost::json::object& obj, std::string_view field);
std::string required_string(const boost::json::object& obj, std::string_view field);
std::optional<std::string> optional_string(const boost::json::object& obj, std::string_view field);
// The array in `field`, each element of which must be an object ("items[0]" names a bad one).
std::vector<const boost::json::object*> required_object_array(const boost::json::object& obj,
                                                              std::string_view field);

// "2025-12-10T07:00:31.123456" in the business time zone (the process TZ, set at start-up).
std::string local_datetime(std::int64_t epoch_micros);
std::string local_datetime(std::chrono::system_clock::time_point t);
std::string now_local_datetime();

}  // namespace ec::http::json
