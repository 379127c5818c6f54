#include "http/request_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "domain/error.hpp"
#include "http/responses.hpp"

namespace ec::http {
namespace {

using boost::asio::awaitable;
using domain::DomainError;
using domain::ErrorCode;

// A request routed through a real Router, so params are exactly what the server would pass.
struct Fixture {
    Router router;
    Request req;
    std::string path;
    RouteMatch match;

    Fixture(std::string_view pattern, std::string p, bhttp::verb method = bhttp::verb::get)
        : req(method, p, 11), path(std::move(p)) {
        router.add(method, pattern, [](RequestContext&) -> awaitable<Response> { co_return Response{}; });
        match = router.match(method, path);
    }
    RequestContext ctx(std::string_view query = {}) {
        EXPECT_EQ(match.kind, RouteMatch::Kind::Found);
        return RequestContext(req, *match.route, match.params, query, "req-1");
    }
};

// A context with no path parameters, for query and body tests.
struct Plain : Fixture {
    Plain() : Fixture("/x", "/x", bhttp::verb::post) {}
};

template <class F>
void expect_domain_error(F&& f, ErrorCode code, const std::string& message) {
    try {
        f();
        ADD_FAILURE() << "expected DomainError: " << message;
    } catch (const DomainError& e) {
        EXPECT_EQ(e.code(), code);
        EXPECT_EQ(std::string(e.what()), message);
    }
}

// --- accessors and path parameters ----------------------------------------------------------------

TEST(RequestContextBasics, ExposesRequestRouteAndRequestId) {
    Fixture f("/api/users/{userId}", "/api/users/42");
    auto ctx = f.ctx();
    EXPECT_EQ(&ctx.request(), &f.req);
    EXPECT_EQ(&ctx.route(), f.match.route);
    EXPECT_EQ(ctx.route().pattern, "/api/users/{userId}");
    EXPECT_EQ(ctx.request_id(), "req-1");
}

TEST(RequestContextPath, PathIdParsesInt64) {
    Fixture f("/api/coupons/{couponId}/reservations/{userId}",
              "/api/coupons/7/reservations/-9223372036854775808");
    auto ctx = f.ctx();
    EXPECT_EQ(ctx.path_id("couponId"), 7);
    EXPECT_EQ(ctx.path_id("userId"), INT64_MIN);
    EXPECT_EQ(ctx.path_string("couponId"), "7");
}

TEST(RequestContextPath, PathStringReturnsRawSegment) {
    Fixture f("/actuator/metrics/{name:string}", "/actuator/metrics/jvm.memory.used");
    auto ctx = f.ctx();
    EXPECT_EQ(ctx.path_string("name"), "jvm.memory.used");
}

TEST(RequestContextPath, UnknownParameterNameIsALogicError) {
    Fixture f("/api/users/{userId}", "/api/users/1");
    auto ctx = f.ctx();
    try {
        (void)ctx.path_string("orderId");
        FAIL() << "expected std::logic_error";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "route /api/users/{userId} has no parameter orderId");
    }
    EXPECT_THROW((void)ctx.path_id("orderId"), std::logic_error);
}

// --- query ----------------------------------------------------------------------------------------

TEST(RequestContextQuery, FindsValuesByName) {
    Plain p;
    auto ctx = p.ctx("category=books&sort=price_desc");
    EXPECT_EQ(ctx.query("category"), std::optional<std::string>("books"));
    EXPECT_EQ(ctx.query("sort"), std::optional<std::string>("price_desc"));
}

TEST(RequestContextQuery, AbsentIsNullopt) {
    Plain p;
    EXPECT_EQ(p.ctx("").query("a"), std::nullopt);
    EXPECT_EQ(p.ctx("ab=1&b=2").query("a"), std::nullopt);
    EXPECT_EQ(p.ctx("x=a").query("a"), std::nullopt);
    EXPECT_EQ(p.ctx("&&").query("a"), std::nullopt);
}

TEST(RequestContextQuery, KeyWithoutValueOrEmptyValueIsEmptyString) {
    Plain p;
    auto ctx = p.ctx("flag&empty=&x=1");
    EXPECT_EQ(ctx.query("flag"), std::optional<std::string>(""));
    EXPECT_EQ(ctx.query("empty"), std::optional<std::string>(""));
    EXPECT_EQ(ctx.query("x"), std::optional<std::string>("1"));
}

TEST(RequestContextQuery, FirstOccurrenceWins) {
    Plain p;
    EXPECT_EQ(p.ctx("status=PAID&status=PENDING").query("status"), std::optional<std::string>("PAID"));
}

TEST(RequestContextQuery, EmptyPairsAreSkipped) {
    Plain p;
    EXPECT_EQ(p.ctx("&&userId=5&").query("userId"), std::optional<std::string>("5"));
}

TEST(RequestContextQuery, PlusIsSpaceAndPercentEscapesAreDecoded) {
    Plain p;
    auto ctx = p.ctx("name=hello+world&enc=a%2Bb&pct=100%25&utf=%ED%95%9C%EA%B8%80&eq=a%3Db%26c&raw=a=b");
    EXPECT_EQ(ctx.query("name"), std::optional<std::string>("hello world"));
    EXPECT_EQ(ctx.query("enc"), std::optional<std::string>("a+b"));
    EXPECT_EQ(ctx.query("pct"), std::optional<std::string>("100%"));
    EXPECT_EQ(ctx.query("utf"), std::optional<std::string>("\xED\x95\x9C\xEA\xB8\x80"));
    EXPECT_EQ(ctx.query("eq"), std::optional<std::string>("a=b&c"));
    EXPECT_EQ(ctx.query("raw"), std::optional<std::string>("a=b"));
}

TEST(RequestContextQuery, KeysAreDecodedToo) {
    Plain p;
    auto ctx = p.ctx("my+key=1&other%20key=2&%75serId=3");
    EXPECT_EQ(ctx.query("my key"), std::optional<std::string>("1"));
    EXPECT_EQ(ctx.query("other key"), std::optional<std::string>("2"));
    EXPECT_EQ(ctx.query("userId"), std::optional<std::string>("3"));
}

TEST(RequestContextQuery, MalformedPercentEncodingIsInvalidInput) {
    Plain p;
    for (const char* q : {"q=%zz", "q=%", "q=%4", "q=abc%G1"}) {
        auto ctx = p.ctx(q);
        expect_domain_error([&] { (void)ctx.query("q"); }, ErrorCode::InvalidInput,
                            "Malformed percent-encoding in query string");
    }
}

// --- query_int ------------------------------------------------------------------------------------

TEST(RequestContextQueryInt, ParsesSignedInt64) {
    Plain p;
    auto ctx = p.ctx("limit=10&neg=-3&zero=0&max=9223372036854775807");
    EXPECT_EQ(ctx.query_int("limit"), std::optional<std::int64_t>(10));
    EXPECT_EQ(ctx.query_int("neg"), std::optional<std::int64_t>(-3));
    EXPECT_EQ(ctx.query_int("zero"), std::optional<std::int64_t>(0));
    EXPECT_EQ(ctx.query_int("max"), std::optional<std::int64_t>(INT64_MAX));
}

TEST(RequestContextQueryInt, AbsentOrEmptyIsNullopt) {
    Plain p;
    auto ctx = p.ctx("limit=&flag");
    EXPECT_EQ(ctx.query_int("limit"), std::nullopt);
    EXPECT_EQ(ctx.query_int("flag"), std::nullopt);
    EXPECT_EQ(ctx.query_int("missing"), std::nullopt);
}

TEST(RequestContextQueryInt, NonIntegerNamesParameterAndValue) {
    Plain p;
    // "1+" decodes to "1 " and "%2B1" to "+1": neither is a plain integer.
    const std::pair<const char*, const char*> cases[] = {
        {"limit=abc", "abc"}, {"limit=1.5", "1.5"}, {"limit=12x", "12x"},
        {"limit=1+", "1 "},   {"limit=%2B1", "+1"}, {"limit=9223372036854775808", "9223372036854775808"},
    };
    for (const auto& [q, shown] : cases) {
        auto ctx = p.ctx(q);
        expect_domain_error(
            [&] { (void)ctx.query_int("limit"); }, ErrorCode::InvalidInput,
            std::string("Invalid query parameter 'limit': '") + shown + "' is not a valid integer");
    }
}

TEST(RequestContextQueryInt, EchoedValueIsClippedTo64Characters) {
    Plain p;
    const std::string value(100, 'x');
    const std::string q = "limit=" + value;
    auto ctx = p.ctx(q);
    expect_domain_error(
        [&] { (void)ctx.query_int("limit"); }, ErrorCode::InvalidInput,
        "Invalid query parameter 'limit': '" + std::string(64, 'x') + "...' is not a valid integer");
}

TEST(RequestContextQueryInt, SixtyFourCharacterValueIsNotClipped) {
    Plain p;
    const std::string value(64, 'y');
    const std::string q = "limit=" + value;
    auto ctx = p.ctx(q);
    expect_domain_error([&] { (void)ctx.query_int("limit"); }, ErrorCode::InvalidInput,
                        "Invalid query parameter 'limit': '" + value + "' is not a valid integer");
}

TEST(RequestContextQueryInt, RequiredReturnsValueOrThrows) {
    Plain p;
    auto ctx = p.ctx("userId=1001&empty=");
    EXPECT_EQ(ctx.required_query_int("userId"), 1001);
    expect_domain_error([&] { (void)ctx.required_query_int("missing"); }, ErrorCode::InvalidInput,
                        "Query parameter 'missing' is required");
    expect_domain_error([&] { (void)ctx.required_query_int("empty"); }, ErrorCode::InvalidInput,
                        "Query parameter 'empty' is required");
    auto bad = p.ctx("userId=x");
    expect_domain_error([&] { (void)bad.required_query_int("userId"); }, ErrorCode::InvalidInput,
                        "Invalid query parameter 'userId': 'x' is not a valid integer");
}

// --- json_body ------------------------------------------------------------------------------------

struct BodyCase : Plain {
    BodyCase(std::string_view content_type, std::string body) {
        if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
        req.body() = std::move(body);
        req.prepare_payload();
    }
};

TEST(RequestContextJsonBody, ParsesAJsonObject) {
    BodyCase b("application/json", R"({"amount": 5000, "idempotencyKey": "k1"})");
    auto ctx = b.ctx();
    const auto& body = ctx.json_body();
    EXPECT_EQ(boost::json::serialize(body), R"({"amount":5000,"idempotencyKey":"k1"})");
}

TEST(RequestContextJsonBody, IsParsedOnceAndCached) {
    BodyCase b("application/json", R"({"a": 1})");
    auto ctx = b.ctx();
    const auto* first = &ctx.json_body();
    b.req.body() = "not json any more";
    const auto* second = &ctx.json_body();
    EXPECT_EQ(first, second);
    EXPECT_EQ(second->at("a").as_int64(), 1);
}

TEST(RequestContextJsonBody, AcceptsJsonMediaTypeVariants) {
    for (const char* ct :
         {"application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
          "Application/JSON", "application/json ; charset=utf-8", "application/problem+json",
          "application/merge-patch+json; charset=utf-8"}) {
        BodyCase b(ct, R"({"ok": true})");
        auto ctx = b.ctx();
        try {
            EXPECT_TRUE(ctx.json_body().at("ok").as_bool()) << ct;
        } catch (const std::exception& e) {
            ADD_FAILURE() << ct << ": " << e.what();
        }
    }
}

TEST(RequestContextJsonBody, NonJsonContentTypeIs415) {
    const std::pair<const char*, const char*> cases[] = {
        {"text/plain", "text/plain"},
        {"application/x-www-form-urlencoded", "application/x-www-form-urlencoded"},
        {"application/jsonp", "application/jsonp"},
        {"text/json", "text/json"},
        {"application/xml; charset=utf-8", "application/xml"},
        {"TEXT/PLAIN", "text/plain"},
    };
    for (const auto& [ct, shown] : cases) {
        BodyCase b(ct, R"({"a": 1})");
        auto ctx = b.ctx();
        try {
            (void)ctx.json_body();
            ADD_FAILURE() << "expected 415 for " << ct;
        } catch (const DomainError& e) {
            EXPECT_EQ(e.code(), ErrorCode::UnsupportedMediaType) << ct;
            EXPECT_EQ(status_for(e.code()), bhttp::status::unsupported_media_type);
            EXPECT_EQ(std::string(e.what()),
                      std::string("Content-Type '") + shown + "' is not supported; use application/json");
        }
    }
}

TEST(RequestContextJsonBody, MissingContentTypeIs415) {
    BodyCase b("", R"({"a": 1})");
    auto ctx = b.ctx();
    expect_domain_error([&] { (void)ctx.json_body(); }, ErrorCode::UnsupportedMediaType,
                        "Content-Type '' is not supported; use application/json");
}

TEST(RequestContextJsonBody, OverlongContentTypeIsClippedInTheMessage) {
    const std::string ct = "application/" + std::string(80, 'z');
    BodyCase b(ct, R"({"a": 1})");
    auto ctx = b.ctx();
    expect_domain_error([&] { (void)ctx.json_body(); }, ErrorCode::UnsupportedMediaType,
                        "Content-Type '" + ct.substr(0, 64) + "...' is not supported; use application/json");
}

TEST(RequestContextJsonBody, EmptyBodyIs400) {
    BodyCase b("application/json", "");
    auto ctx = b.ctx();
    try {
        (void)ctx.json_body();
        FAIL() << "expected DomainError";
    } catch (const DomainError& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
        EXPECT_EQ(status_for(e.code()), bhttp::status::bad_request);
        EXPECT_STREQ(e.what(), "Request body is required");
    }
}

TEST(RequestContextJsonBody, EmptyBodyWithoutContentTypeIs400) {
    BodyCase b("", "");
    auto ctx = b.ctx();
    expect_domain_error([&] { (void)ctx.json_body(); }, ErrorCode::InvalidInput, "Request body is required");
}

TEST(RequestContextJsonBody, MalformedJsonIs400) {
    for (const char* body : {"{", "{\"a\": }", "{'a': 1}", "{} trailing", "{\"a\": 1,}", "   "}) {
        BodyCase b("application/json", body);
        auto ctx = b.ctx();
        try {
            (void)ctx.json_body();
            ADD_FAILURE() << "expected DomainError for " << body;
        } catch (const DomainError& e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidInput) << body;
            const std::string what = e.what();
            const std::string prefix = "Malformed JSON request body: ";
            EXPECT_EQ(what.substr(0, prefix.size()), prefix) << what;
            EXPECT_GT(what.size(), prefix.size()) << what;
        }
    }
}

TEST(RequestContextJsonBody, NonObjectJsonIs400) {
    for (const char* body : {"[1, 2]", "null", "42", "\"text\"", "true", "[]"}) {
        BodyCase b("application/json", body);
        auto ctx = b.ctx();
        expect_domain_error([&] { (void)ctx.json_body(); }, ErrorCode::InvalidInput,
                            "Request body must be a JSON object");
    }
}

TEST(RequestContextJsonBody, FailureIsNotCached) {
    BodyCase b("application/json", "[1]");
    auto ctx = b.ctx();
    EXPECT_THROW((void)ctx.json_body(), DomainError);
    EXPECT_THROW((void)ctx.json_body(), DomainError);
}

}  // namespace
}  // namespace ec::http
