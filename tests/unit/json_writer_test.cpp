// JsonWriter must produce exactly what boost::json::serialize produces for the same document, so a
// route can move to it without changing a byte on the wire.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>
#include <string>

#include "http/json_writer.hpp"

namespace ec::http {
namespace {

namespace bj = boost::json;

TEST(JsonWriter, NestedDocumentMatchesBoostJson) {
    JsonWriter w;
    w.begin_object().key("date").value("2026-11-26").key("rankings").begin_array();
    for (int i = 1; i <= 3; ++i) {
        w.begin_object()
            .key("rank")
            .value(i)
            .key("productName")
            .value("상품 " + std::to_string(i))
            .end_object();
    }
    w.end_array()
        .key("empty")
        .begin_array()
        .end_array()
        .key("nothing")
        .begin_object()
        .end_object()
        .key("flags")
        .begin_array()
        .value(true)
        .value(false)
        .null()
        .begin_array()
        .value(std::int64_t{-7})
        .end_array()
        .end_array()
        .key("source")
        .value("redis")
        .end_object();

    bj::array rankings;
    for (int i = 1; i <= 3; ++i) {
        rankings.push_back(bj::object{{"rank", i}, {"productName", "상품 " + std::to_string(i)}});
    }
    const bj::object expected{{"date", "2026-11-26"},
                              {"rankings", rankings},
                              {"empty", bj::array{}},
                              {"nothing", bj::object{}},
                              {"flags", bj::array{true, false, nullptr, bj::array{-7}}},
                              {"source", "redis"}};
    EXPECT_EQ(w.str(), bj::serialize(expected));
    EXPECT_EQ(bj::parse(w.str()), bj::value(expected));
}

TEST(JsonWriter, EscapesLikeBoostJson) {
    std::string nasty = "quote\" backslash\\ slash/ tab\t nl\n cr\r bs\b ff\f nul";
    nasty += '\0';
    nasty += " unit\x1f del\x7f 한글 é";
    JsonWriter w;
    w.begin_array().value(nasty).value("").end_array();
    EXPECT_EQ(w.str(), bj::serialize(bj::array{bj::string(nasty), ""}));
    EXPECT_EQ(bj::parse(w.str()).as_array().at(0).as_string(), nasty);
}

TEST(JsonWriter, IntegersAtTheirLimits) {
    JsonWriter w;
    w.begin_array()
        .value(std::numeric_limits<std::int64_t>::min())
        .value(std::numeric_limits<std::int64_t>::max())
        .value(0)
        .end_array();
    EXPECT_EQ(w.take(), "[-9223372036854775808,9223372036854775807,0]");
}

}  // namespace
}  // namespace ec::http
