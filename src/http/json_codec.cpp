#include "http/json_codec.hpp"

#include "domain/error.hpp"
#include "domain/local_time.hpp"

namespace ec::http::json {

namespace bj = boost::json;
using domain::DomainError;
using domain::ErrorCode;

namespace {
const bj::value* find(const bj::object& obj, std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

[[noreturn]] void missing(std::string_view field) {
    throw DomainError(ErrorCode::InvalidInput, "Field '" + std::string(field) + "' is required");
}

std::int64_t as_int64(const bj::value& v, std::string_view field) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        throw DomainError(ErrorCode::InvalidInput, "Field '" + std::string(field) + "' is out of range");
    }
    throw DomainError(ErrorCode::InvalidInput, "Field '" + std::string(field) + "' must be an integer");
}

std::string as_string(const bj::value& v, std::string_view field) {
    if (!v.is_string()) {
        throw DomainError(ErrorCode::InvalidInput, "Field '" + std::string(field) + "' must be a string");
    }
    return std::string(v.get_string());
}
}  // namespace

std::int64_t required_int64(const bj::object& obj, std::string_view field) {
    const auto* v = find(obj, field);
    if (v == nullptr) missing(field);
    return as_int64(*v, field);
}

std::optional<std::int64_t> optional_int64(const bj::object& obj, std::string_view field) {
    const auto* v = find(obj, field);
    if (v == nullptr) return std::nullopt;
    return as_int64(*v, field);
}

std::string required_string(const bj::object& obj, std::string_view field) {
    const auto* v = find(obj, field);
    if (v == nullptr) missing(field);
    return as_string(*v, field);
}

std::optional<std::string> optional_string(const bj::object& obj, std::string_view field) {
    const auto* v = find(obj, field);
    if (v == nullptr) return std::nullopt;
    return as_string(*v, field);
}

std::vector<const bj::object*> required_object_array(const bj::object& obj, std::string_view field) {
    const auto* v = find(obj, field);
    if (v == nullptr) missing(field);
    if (!v->is_array()) {
        throw DomainError(ErrorCode::InvalidInput, "Field '" + std::string(field) + "' must be an array");
    }
    std::vector<const bj::object*> out;
    for (const auto& element : v->get_array()) {
        if (!element.is_object()) {
            throw DomainError(
                ErrorCode::InvalidInput,
                "Field '" + std::string(field) + "[" + std::to_string(out.size()) + "]' must be an object");
        }
        out.push_back(&element.get_object());
    }
    return out;
}

std::string local_datetime(std::int64_t epoch_micros) {
    return domain::format_local_datetime(epoch_micros);
}

std::string local_datetime(std::chrono::system_clock::time_point t) {
    return local_datetime(
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

std::string now_local_datetime() {
    return local_datetime(std::chrono::system_clock::now());
}

}  // namespace ec::http::json
