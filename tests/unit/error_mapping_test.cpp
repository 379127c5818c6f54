// SPEC §4.1: every error code, its wire string and its HTTP status; the error body shape; and the
// mapping of whatever a handler throws to a response.
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <cctype>
#include <exception>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "app/errors.hpp"
#include "domain/error.hpp"
#include "http/responses.hpp"

namespace ec::http {
namespace {

namespace bj = boost::json;
using domain::DomainError;
using domain::ErrorCode;

struct CodeRow {
    ErrorCode code;
    std::string_view wire;
    unsigned status;
};

// Copied from SPEC §4.1, in enum order.
constexpr CodeRow kSpecTable[] = {
    {ErrorCode::ProductNotFound, "P001", 404},
    {ErrorCode::InsufficientStock, "P002", 409},
    {ErrorCode::StockConflict, "P003", 409},
    {ErrorCode::InvalidQuantity, "O001", 400},
    {ErrorCode::OrderNotFound, "O002", 404},
    {ErrorCode::InvalidOrderStatus, "O003", 400},
    {ErrorCode::InsufficientBalance, "PAY001", 409},
    {ErrorCode::PaymentDeclined, "PAY002", 402},
    {ErrorCode::DuplicateInProgress, "PAY003", 409},
    {ErrorCode::CouponSoldOut, "C001", 409},
    {ErrorCode::InvalidCoupon, "C002", 400},
    {ErrorCode::CouponExpired, "C003", 400},
    {ErrorCode::CouponAlreadyIssued, "C004", 400},
    {ErrorCode::UserNotFound, "U001", 404},
    {ErrorCode::InvalidChargeAmount, "U002", 400},
    {ErrorCode::CartNotFound, "CART001", 404},
    {ErrorCode::CartItemNotFound, "CART002", 404},
    {ErrorCode::Internal, "COMMON001", 500},
    {ErrorCode::InvalidInput, "COMMON002", 400},
    {ErrorCode::RouteNotFound, "COMMON003", 404},
    {ErrorCode::MethodNotAllowed, "COMMON004", 405},
    {ErrorCode::PayloadTooLarge, "COMMON005", 413},
    {ErrorCode::UnsupportedMediaType, "COMMON006", 415},
    {ErrorCode::DependencyUnavailable, "COMMON007", 503},
};

// Adding an enumerator without a row here fails this: the table must cover the whole enum.
static_assert(std::size(kSpecTable) == static_cast<std::size_t>(ErrorCode::DependencyUnavailable) + 1);

// Silences the log lines response_for_exception writes, restoring the previous level afterwards.
class QuietLog {
public:
    QuietLog() : saved_(spdlog::get_level()) { spdlog::set_level(spdlog::level::off); }
    ~QuietLog() { spdlog::set_level(saved_); }

private:
    spdlog::level::level_enum saved_;
};

bool is_wire_timestamp(const std::string& s) {
    if (s.size() != 26) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char want = i == 4 || i == 7     ? '-'
                          : i == 10            ? 'T'
                          : i == 13 || i == 16 ? ':'
                          : i == 19            ? '.'
                                               : '#';
        if (want == '#' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != want) return false;
    }
    return true;
}

// Checks the SPEC error body: exactly {code, message, timestamp}, JSON content type, right length.
void expect_error_body(const Response& res, unsigned status, std::string_view code,
                       std::string_view message) {
    EXPECT_EQ(res.result_int(), status);
    EXPECT_EQ(res.version(), 11u);
    EXPECT_EQ(res[bhttp::field::content_type], "application/json");
    EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
    const auto body = bj::parse(res.body()).as_object();
    EXPECT_EQ(body.size(), 3u) << res.body();
    ASSERT_TRUE(body.contains("code") && body.at("code").is_string()) << res.body();
    ASSERT_TRUE(body.contains("message") && body.at("message").is_string()) << res.body();
    ASSERT_TRUE(body.contains("timestamp") && body.at("timestamp").is_string()) << res.body();
    EXPECT_EQ(body.at("code").as_string(), code);
    EXPECT_EQ(body.at("message").as_string(), message);
    const std::string ts(body.at("timestamp").as_string());
    EXPECT_TRUE(is_wire_timestamp(ts)) << ts;
}

// --- code_string / status_for ---------------------------------------------------------------------

TEST(ErrorCodeString, EveryCodeHasItsSpecString) {
    for (const auto& row : kSpecTable) {
        EXPECT_EQ(domain::code_string(row.code), row.wire) << static_cast<int>(row.code);
    }
}

TEST(ErrorCodeString, StringsAreUnique) {
    std::set<std::string_view> seen;
    for (const auto& row : kSpecTable)
        EXPECT_TRUE(seen.insert(domain::code_string(row.code)).second) << row.wire;
    EXPECT_EQ(seen.size(), std::size(kSpecTable));
}

TEST(ErrorCodeString, OutOfRangeValueFallsBackToInternal) {
    EXPECT_EQ(domain::code_string(static_cast<ErrorCode>(999)), "COMMON001");
    EXPECT_EQ(status_for(static_cast<ErrorCode>(999)), bhttp::status::internal_server_error);
}

TEST(ErrorStatusFor, EveryCodeMapsToItsSpecStatus) {
    for (const auto& row : kSpecTable) {
        EXPECT_EQ(static_cast<unsigned>(status_for(row.code)), row.status) << row.wire;
    }
}

TEST(ErrorDomainError, CarriesCodeAndMessage) {
    const DomainError e(ErrorCode::UserNotFound, "User not found. userId: 42");
    EXPECT_EQ(e.code(), ErrorCode::UserNotFound);
    EXPECT_STREQ(e.what(), "User not found. userId: 42");
    const std::runtime_error& base = e;
    EXPECT_STREQ(base.what(), "User not found. userId: 42");
}

// --- response builders ----------------------------------------------------------------------------

TEST(ErrorJsonResponse, SerializesBodyWithJsonHeaders) {
    const auto res = json_response(bhttp::status::created, bj::object{{"userId", 7}, {"balance", 100}});
    EXPECT_EQ(res.result(), bhttp::status::created);
    EXPECT_EQ(res.version(), 11u);
    EXPECT_EQ(res[bhttp::field::content_type], "application/json");
    EXPECT_EQ(res.body(), R"({"userId":7,"balance":100})");
    EXPECT_EQ(res[bhttp::field::content_length], "26");
}

TEST(ErrorResponse, EveryCodeProducesSpecBodyAndStatus) {
    for (const auto& row : kSpecTable) {
        SCOPED_TRACE(std::string(row.wire));
        expect_error_body(error_response(row.code, "specific message"), row.status, row.wire,
                          "specific message");
    }
}

TEST(ErrorResponse, MessageIsJsonEscaped) {
    const std::string msg = "Field \"amount\" \\ bad\n\xED\x95\x9C";
    expect_error_body(error_response(ErrorCode::InvalidInput, msg), 400, "COMMON002", msg);
}

TEST(ErrorResponse, ExplicitStatusOverridesTheCodeStatus) {
    const auto res = error_response(bhttp::status::request_header_fields_too_large, ErrorCode::InvalidInput,
                                    "Request header fields too large");
    expect_error_body(res, 431, "COMMON002", "Request header fields too large");
}

// --- response_for_exception -----------------------------------------------------------------------

template <class E>
Response respond_to(E e) {
    QuietLog quiet;
    return response_for_exception(std::make_exception_ptr(std::move(e)), "req-123");
}

TEST(ErrorForException, DomainErrorKeepsItsCodeAndMessage) {
    for (const auto& row : kSpecTable) {
        SCOPED_TRACE(std::string(row.wire));
        const auto res = respond_to(DomainError(row.code, "msg for " + std::string(row.wire)));
        expect_error_body(res, row.status, row.wire, "msg for " + std::string(row.wire));
    }
}

TEST(ErrorForException, DependencyUnavailableIs503WithGenericMessage) {
    const auto res =
        respond_to(app::DependencyUnavailable("pool timeout: postgresql://app:secret@10.0.0.5:5432/ec"));
    expect_error_body(res, 503, "COMMON007", "A required service is temporarily unavailable");
    EXPECT_EQ(res.body().find("10.0.0.5"), std::string::npos);
    EXPECT_EQ(res.body().find("secret"), std::string::npos);
}

TEST(ErrorForException, DependencyUnavailableSubclassIs503) {
    struct RedisUnavailable : app::DependencyUnavailable {
        using app::DependencyUnavailable::DependencyUnavailable;
    };
    const auto res = respond_to(RedisUnavailable("redis 127.0.0.1:6379 connection refused"));
    expect_error_body(res, 503, "COMMON007", "A required service is temporarily unavailable");
    EXPECT_EQ(res.body().find("6379"), std::string::npos);
}

TEST(ErrorForException, RuntimeErrorIs500WithoutLeakingWhat) {
    const auto res = respond_to(std::runtime_error("ERROR: syntax error at or near \"SELEC\" in users_tbl"));
    expect_error_body(res, 500, "COMMON001", "Internal server error");
    EXPECT_EQ(res.body().find("SELEC"), std::string::npos);
    EXPECT_EQ(res.body().find("users_tbl"), std::string::npos);
}

TEST(ErrorForException, OtherStdExceptionsAre500) {
    expect_error_body(respond_to(std::out_of_range("vector::at index 7")), 500, "COMMON001",
                      "Internal server error");
    expect_error_body(respond_to(std::bad_alloc()), 500, "COMMON001", "Internal server error");
    expect_error_body(respond_to(std::logic_error("route has no parameter x")), 500, "COMMON001",
                      "Internal server error");
}

TEST(ErrorForException, NonStandardExceptionIs500) {
    expect_error_body(respond_to(42), 500, "COMMON001", "Internal server error");
    expect_error_body(respond_to(std::string("thrown string")), 500, "COMMON001", "Internal server error");
}

}  // namespace
}  // namespace ec::http
