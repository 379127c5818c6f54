#include "http/json_codec.hpp"

#include <boost/json/parse.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "domain/error.hpp"

namespace ec::http::json {
namespace {

namespace bj = boost::json;
using domain::DomainError;
using domain::ErrorCode;

bj::object obj(const char* text) {
    return bj::parse(text).as_object();
}

// Runs `f`, expecting a COMMON002 DomainError with exactly `message`.
template <class F>
void expect_invalid_input(F&& f, const std::string& message) {
    try {
        f();
        ADD_FAILURE() << "expected DomainError: " << message;
    } catch (const DomainError& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
        EXPECT_EQ(std::string(e.what()), message);
    }
}

// --- int64 fields ---------------------------------------------------------------------------------

TEST(JsonCodecInt64, RequiredReturnsThePresentValue) {
    const auto o = obj(R"({"amount": 5000, "zero": 0, "neg": -7})");
    EXPECT_EQ(required_int64(o, "amount"), 5000);
    EXPECT_EQ(required_int64(o, "zero"), 0);
    EXPECT_EQ(required_int64(o, "neg"), -7);
}

TEST(JsonCodecInt64, RequiredAcceptsTheInt64Extremes) {
    const auto o = obj(R"({"max": 9223372036854775807, "min": -9223372036854775808})");
    EXPECT_EQ(required_int64(o, "max"), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(required_int64(o, "min"), std::numeric_limits<std::int64_t>::min());
}

TEST(JsonCodecInt64, RequiredMissingOrNullIsRequiredError) {
    const auto o = obj(R"({"other": 1, "userId": null})");
    expect_invalid_input([&] { required_int64(o, "amount"); }, "Field 'amount' is required");
    expect_invalid_input([&] { required_int64(o, "userId"); }, "Field 'userId' is required");
}

TEST(JsonCodecInt64, RequiredIllTypedIsMustBeAnIntegerError) {
    const auto o =
        obj(R"({"s": "5", "d": 1.5, "whole": 1.0, "exp": 1e3, "b": true, "a": [1], "o": {"x": 1}})");
    for (const char* f : {"s", "d", "whole", "exp", "b", "a", "o"}) {
        expect_invalid_input([&] { required_int64(o, f); },
                             std::string("Field '") + f + "' must be an integer");
    }
}

TEST(JsonCodecInt64, AboveInt64MaxIsOutOfRange) {
    const auto o = obj(R"({"quantity": 9223372036854775808, "big": 18446744073709551615})");
    expect_invalid_input([&] { required_int64(o, "quantity"); }, "Field 'quantity' is out of range");
    expect_invalid_input([&] { optional_int64(o, "big"); }, "Field 'big' is out of range");
}

TEST(JsonCodecInt64, OptionalMissingOrNullIsNullopt) {
    const auto o = obj(R"({"couponId": null})");
    EXPECT_EQ(optional_int64(o, "couponId"), std::nullopt);
    EXPECT_EQ(optional_int64(o, "absent"), std::nullopt);
}

TEST(JsonCodecInt64, OptionalPresentIsValueAndIllTypedThrows) {
    const auto o = obj(R"({"couponId": 12, "bad": "12"})");
    EXPECT_EQ(optional_int64(o, "couponId"), std::optional<std::int64_t>(12));
    expect_invalid_input([&] { optional_int64(o, "bad"); }, "Field 'bad' must be an integer");
}

TEST(JsonCodecInt64, FieldNamesAreCaseSensitive) {
    const auto o = obj(R"({"Amount": 5})");
    expect_invalid_input([&] { required_int64(o, "amount"); }, "Field 'amount' is required");
}

// --- string fields --------------------------------------------------------------------------------

TEST(JsonCodecString, RequiredReturnsThePresentValue) {
    const auto o = obj(R"({"idempotencyKey": "key-1", "empty": "", "utf8": "\uD55C\uAE00"})");
    EXPECT_EQ(required_string(o, "idempotencyKey"), "key-1");
    EXPECT_EQ(required_string(o, "empty"), "");
    EXPECT_EQ(required_string(o, "utf8"), "\xED\x95\x9C\xEA\xB8\x80");  // "한글"
}

TEST(JsonCodecString, RequiredMissingOrNullIsRequiredError) {
    const auto o = obj(R"({"idempotencyKey": null})");
    expect_invalid_input([&] { required_string(o, "idempotencyKey"); }, "Field 'idempotencyKey' is required");
    expect_invalid_input([&] { required_string(o, "status"); }, "Field 'status' is required");
}

TEST(JsonCodecString, RequiredIllTypedIsMustBeAStringError) {
    const auto o = obj(R"({"n": 1, "d": 2.5, "b": false, "a": ["x"], "o": {}})");
    for (const char* f : {"n", "d", "b", "a", "o"}) {
        expect_invalid_input([&] { required_string(o, f); },
                             std::string("Field '") + f + "' must be a string");
    }
}

TEST(JsonCodecString, OptionalMissingNullPresentAndIllTyped) {
    const auto o = obj(R"({"status": "PAID", "sort": null, "n": 3})");
    EXPECT_EQ(optional_string(o, "status"), std::optional<std::string>("PAID"));
    EXPECT_EQ(optional_string(o, "sort"), std::nullopt);
    EXPECT_EQ(optional_string(o, "absent"), std::nullopt);
    expect_invalid_input([&] { optional_string(o, "n"); }, "Field 'n' must be a string");
}

// --- local_datetime -------------------------------------------------------------------------------

// Sets the process TZ for one test and restores the previous value afterwards.
class LocalDatetime : public ::testing::Test {
protected:
    void SetUp() override {
        if (const char* old = std::getenv("TZ")) saved_ = old;
        use_zone("Asia/Seoul");
    }
    void TearDown() override {
        if (saved_) {
            ::setenv("TZ", saved_->c_str(), 1);
        } else {
            ::unsetenv("TZ");
        }
        ::tzset();
    }
    static void use_zone(const char* zone) {
        ::setenv("TZ", zone, 1);
        ::tzset();
    }

private:
    std::optional<std::string> saved_;
};

TEST_F(LocalDatetime, EpochIsNineOClockInSeoul) {
    EXPECT_EQ(local_datetime(0), "1970-01-01T09:00:00.000000");
}

TEST_F(LocalDatetime, MicrosecondsArePaddedToSixDigits) {
    EXPECT_EQ(local_datetime(1), "1970-01-01T09:00:00.000001");
    EXPECT_EQ(local_datetime(999'999), "1970-01-01T09:00:00.999999");
    EXPECT_EQ(local_datetime(1'000'000), "1970-01-01T09:00:01.000000");
    EXPECT_EQ(local_datetime(1'000'010), "1970-01-01T09:00:01.000010");
}

TEST_F(LocalDatetime, NegativeMicrosFloorToThePreviousSecond) {
    EXPECT_EQ(local_datetime(-1), "1970-01-01T08:59:59.999999");
    EXPECT_EQ(local_datetime(-1'000'000), "1970-01-01T08:59:59.000000");
    EXPECT_EQ(local_datetime(-1'500'000), "1970-01-01T08:59:58.500000");
    EXPECT_EQ(local_datetime(-32'400'000'001), "1969-12-31T23:59:59.999999");
}

TEST_F(LocalDatetime, SpecExampleInstant) {
    // 2025-12-10T07:00:31.123456 KST == 2025-12-09T22:00:31.123456Z
    EXPECT_EQ(local_datetime(std::int64_t{1'765'317'631'123'456}), "2025-12-10T07:00:31.123456");
}

TEST_F(LocalDatetime, LeapDayAndYearEnd) {
    EXPECT_EQ(local_datetime(std::int64_t{1'709'218'799'000'000}),
              "2024-02-29T23:59:59.000000");  // 14:59:59Z
    EXPECT_EQ(local_datetime(std::int64_t{1'735'657'200'000'000}), "2025-01-01T00:00:00.000000");  // 15:00Z
}

TEST_F(LocalDatetime, FollowsTheProcessTimeZone) {
    use_zone("UTC");
    EXPECT_EQ(local_datetime(0), "1970-01-01T00:00:00.000000");
    EXPECT_EQ(local_datetime(-1), "1969-12-31T23:59:59.999999");
    use_zone("America/New_York");
    EXPECT_EQ(local_datetime(std::int64_t{1'751'371'200'000'000}), "2025-07-01T08:00:00.000000");  // EDT
    EXPECT_EQ(local_datetime(std::int64_t{1'735'732'800'000'000}), "2025-01-01T07:00:00.000000");  // EST
}

TEST_F(LocalDatetime, TimePointOverloadTruncatesToMicroseconds) {
    using namespace std::chrono;
    EXPECT_EQ(local_datetime(system_clock::time_point{}), "1970-01-01T09:00:00.000000");
    const auto t = system_clock::time_point{duration_cast<system_clock::duration>(
        seconds{1'765'317'631} + microseconds{123'456} + nanoseconds{789})};
    EXPECT_EQ(local_datetime(t), "2025-12-10T07:00:31.123456");
}

TEST_F(LocalDatetime, NowHasTheWireShape) {
    const auto s = now_local_datetime();
    ASSERT_EQ(s.size(), 26u) << s;
    for (std::size_t i = 0; i < s.size(); ++i) {
        switch (i) {
            case 4:
            case 7:
                EXPECT_EQ(s[i], '-') << s;
                break;
            case 10:
                EXPECT_EQ(s[i], 'T') << s;
                break;
            case 13:
            case 16:
                EXPECT_EQ(s[i], ':') << s;
                break;
            case 19:
                EXPECT_EQ(s[i], '.') << s;
                break;
            default:
                EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(s[i]))) << s << " at " << i;
        }
    }
    EXPECT_GE(s.substr(0, 4), "2024");
}

}  // namespace
}  // namespace ec::http::json
