#include "http/request_context.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/decode_view.hpp>
#include <charconv>

#include "domain/error.hpp"

namespace ec::http {

using domain::DomainError;
using domain::ErrorCode;

namespace {
std::string decode(std::string_view raw) {
    std::string plus_fixed(raw);
    for (auto& c : plus_fixed) {
        if (c == '+') c = ' ';
    }
    try {
        boost::urls::decode_view dv(plus_fixed);
        return std::string(dv.begin(), dv.end());
    } catch (const std::exception&) {
        throw DomainError(ErrorCode::InvalidInput, "Malformed percent-encoding in query string");
    }
}

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// Echoed values are clipped so a hostile parameter cannot bloat the error body.
std::string clip(std::string_view s) {
    return s.size() > 64 ? std::string(s.substr(0, 64)) + "..." : std::string(s);
}
}  // namespace

RequestContext::RequestContext(const Request& req, const Route& route, std::vector<std::string_view> params,
                               std::string_view query, std::string request_id)
    : req_(req),
      route_(route),
      params_(std::move(params)),
      query_(query),
      request_id_(std::move(request_id)) {}

std::string_view RequestContext::path_string(std::string_view name) const {
    std::size_t i = 0;
    for (const auto& s : route_.segments) {
        if (s.literal.empty()) {
            if (s.param == name) return params_.at(i);
            ++i;
        }
    }
    throw std::logic_error("route " + route_.pattern + " has no parameter " + std::string(name));
}

std::int64_t RequestContext::path_id(std::string_view name) const {
    // The router already checked the syntax of int parameters.
    const auto v = parse_int(path_string(name));
    if (!v) throw std::logic_error("path parameter " + std::string(name) + " is not an integer parameter");
    return *v;
}

std::optional<std::string> RequestContext::query(std::string_view name) const {
    std::string_view q = query_;
    while (!q.empty()) {
        const auto amp = q.find('&');
        const auto pair = q.substr(0, amp);
        const auto eq = pair.find('=');
        const auto key = decode(pair.substr(0, eq));
        if (key == name) return eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

std::optional<std::int64_t> RequestContext::query_int(std::string_view name) const {
    auto raw = query(name);
    if (!raw || raw->empty()) return std::nullopt;
    auto v = parse_int(*raw);
    if (!v) {
        throw DomainError(ErrorCode::InvalidInput, "Invalid query parameter '" + std::string(name) + "': '" +
                                                       clip(*raw) + "' is not a valid integer");
    }
    return v;
}

std::int64_t RequestContext::required_query_int(std::string_view name) const {
    auto v = query_int(name);
    if (!v)
        throw DomainError(ErrorCode::InvalidInput, "Query parameter '" + std::string(name) + "' is required");
    return *v;
}

const boost::json::object& RequestContext::json_body() {
    if (body_) return *body_;
    const auto ct = req_[bhttp::field::content_type];
    const auto semi = ct.find(';');
    std::string media(ct.substr(0, semi));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool is_json =
        media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"));
    if (req_.body().empty() && media.empty()) {
        throw DomainError(ErrorCode::InvalidInput, "Request body is required");
    }
    if (!is_json) {
        throw DomainError(ErrorCode::UnsupportedMediaType,
                          "Content-Type '" + clip(media) + "' is not supported; use application/json");
    }
    if (req_.body().empty()) {
        throw DomainError(ErrorCode::InvalidInput, "Request body is required");
    }
    boost::system::error_code ec;
    auto value = boost::json::parse(req_.body(), ec);
    if (ec) throw DomainError(ErrorCode::InvalidInput, "Malformed JSON request body: " + ec.message());
    if (!value.is_object()) throw DomainError(ErrorCode::InvalidInput, "Request body must be a JSON object");
    body_ = std::move(value.as_object());
    return *body_;
}

}  // namespace ec::http
