#pragma once
// Shared helpers for the end-to-end tests: a per-suite server, direct PostgreSQL access (libpq,
// blocking) for "what was written" checks, unique idempotency keys and small HTTP parsing helpers.
//
// The tests share one database (seeded by `--profile test`) and also share it with other test
// binaries, so each test uses its own users and asserts balance *deltas* relative to values read at
// the start; idempotency keys carry a per-run suffix so reruns on the same database pass.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/http_client.hpp"
#include "support/pg_admin.hpp"
#include "support/server_process.hpp"
#include "support/test_env.hpp"

namespace ec::e2e {

using namespace ec::test;  // NOLINT(google-build-using-namespace): test-only convenience
using namespace std::chrono_literals;

// ------------------------------------------------------------------------------------------------
// PostgreSQL

// What the e2e tests read back from the database the server wrote to.
class Pg : public PgAdmin {
public:
    std::int64_t int64(const std::string& sql, const std::vector<std::string>& params = {}) {
        return number(sql, params);
    }

    std::int64_t balance(std::int64_t user_id) {
        return int64("SELECT balance FROM users WHERE id = $1", {std::to_string(user_id)});
    }
    std::int64_t idempotency_rows(std::int64_t user_id) {
        return int64("SELECT count(*) FROM idempotency_records WHERE user_id = $1",
                     {std::to_string(user_id)});
    }
    std::int64_t idempotency_rows(std::int64_t user_id, const std::string& key) {
        return int64("SELECT count(*) FROM idempotency_records WHERE user_id = $1 AND idempotency_key = $2",
                     {std::to_string(user_id), key});
    }
    std::int64_t idempotency_rows_with_prefix(std::int64_t user_id, const std::string& prefix) {
        return int64(
            "SELECT count(*) FROM idempotency_records WHERE user_id = $1 AND starts_with(idempotency_key, "
            "$2)",
            {std::to_string(user_id), prefix});
    }
};

// ------------------------------------------------------------------------------------------------
// Keys, bodies, paths

// Unique per process and call: "<tag>-<pid>-<epoch ms>-<random>-<counter>".
inline std::string unique_key(std::string_view tag) {
    static const std::string run = [] {
        std::random_device rd;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
        return std::to_string(::getpid()) + "-" + std::to_string(ms) + "-" + std::to_string(rd() % 100000);
    }();
    static std::atomic<int> counter{0};
    return std::string(tag) + "-" + run + "-" + std::to_string(counter++);
}

inline std::string charge_body(std::int64_t amount, const std::string& key) {
    return boost::json::serialize(boost::json::object{{"amount", amount}, {"idempotencyKey", key}});
}
inline std::string user_path(std::int64_t user_id) {
    return "/api/users/" + std::to_string(user_id);
}
inline std::string balance_path(std::int64_t user_id) {
    return user_path(user_id) + "/balance";
}
inline std::string charge_path(std::int64_t user_id) {
    return user_path(user_id) + "/balance/charge";
}

// "yyyy-MM-ddTHH:mm:ss.SSSSSS" (SPEC §4: local date-time with microseconds, no offset).
inline bool is_local_datetime_micros(const std::string& s) {
    static const std::regex re(
        R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}$)");
    return std::regex_match(s, re);
}

// The value of an unlabelled series `name` in a /actuator/prometheus page; nullopt when absent.
inline std::optional<double> prometheus_value(const std::string& page, const std::string& name) {
    const std::regex line("(^|\\n)" + name + " ([0-9.eE+-]+)");
    std::smatch m;
    if (!std::regex_search(page, m, line)) return std::nullopt;
    return std::stod(m[2]);
}

inline std::int64_t as_i64(const boost::json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64());
    throw std::runtime_error("not an integer: " + boost::json::serialize(v));
}

// Asserts the SPEC §4 error shape {code, message, timestamp} with the given status and code.
inline void expect_error(const HttpResponse& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    boost::json::value v;
    try {
        v = r.json();
    } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        return;
    }
    ASSERT_TRUE(v.is_object()) << r.body;
    const auto& o = v.as_object();
    EXPECT_EQ(o.size(), 3u) << r.body;
    ASSERT_TRUE(o.contains("code") && o.at("code").is_string()) << r.body;
    EXPECT_EQ(o.at("code").as_string(), code) << r.body;
    ASSERT_TRUE(o.contains("message") && o.at("message").is_string()) << r.body;
    EXPECT_FALSE(o.at("message").as_string().empty()) << r.body;
    ASSERT_TRUE(o.contains("timestamp") && o.at("timestamp").is_string()) << r.body;
    EXPECT_TRUE(is_local_datetime_micros(std::string(o.at("timestamp").as_string()))) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos)
        << r.header("content-type");
    EXPECT_FALSE(r.header("x-request-id").empty());
}

inline std::string error_message(const HttpResponse& r) {
    try {
        const auto v = r.json();
        if (v.is_object() && v.as_object().contains("message") && v.at("message").is_string()) {
            return std::string(v.at("message").as_string());
        }
    } catch (const std::exception&) {
    }
    return {};
}

// ------------------------------------------------------------------------------------------------
// Raw HTTP/1.1 responses (for pipelining and protocol-level checks)

struct RawResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;

    std::string header(std::string_view name) const {
        for (const auto& [n, v] : headers) {
            if (n == name) return v;
        }
        return {};
    }
};

// Splits a byte stream into consecutive responses framed by Content-Length (the server always sets
// it). Stops at the first incomplete response.
inline std::vector<RawResponse> parse_raw_responses(std::string_view data) {
    std::vector<RawResponse> out;
    while (!data.empty()) {
        const auto head_end = data.find("\r\n\r\n");
        if (head_end == std::string_view::npos) break;
        const std::string_view head = data.substr(0, head_end);
        RawResponse r;
        const auto line_end = head.find("\r\n");
        const std::string_view status_line = head.substr(0, line_end);
        if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) break;
        r.status = std::stoi(std::string(status_line.substr(9, 3)));
        std::size_t content_length = 0;
        std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
        while (pos < head.size()) {
            auto end = head.find("\r\n", pos);
            if (end == std::string_view::npos) end = head.size();
            const std::string_view line = head.substr(pos, end - pos);
            const auto colon = line.find(':');
            if (colon != std::string_view::npos) {
                std::string name(line.substr(0, colon));
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                std::string_view value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
                while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
                if (name == "content-length") content_length = std::stoul(std::string(value));
                r.headers.emplace_back(std::move(name), std::string(value));
            }
            pos = end + 2;
        }
        const std::size_t body_start = head_end + 4;
        if (data.size() < body_start + content_length) break;
        r.body = std::string(data.substr(body_start, content_length));
        out.push_back(std::move(r));
        data.remove_prefix(body_start + content_length);
    }
    return out;
}

// ------------------------------------------------------------------------------------------------
// One server per test suite (ctest runs each test in its own process, so in practice one per test;
// running the binary directly shares it across a suite).

// Stops a throw-away service ("pg" or "redis") for the guard's lifetime; end() starts it earlier.
// `how` is the services-ctl action: "stop", or "crash" (PostgreSQL only: loses unflushed WAL).
class ServiceOutage {
public:
    explicit ServiceOutage(std::string service, const std::string& how = "stop")
        : service_(std::move(service)) {
        services_ctl(service_, how);
    }
    ~ServiceOutage() {
        if (!ended_) services_ctl(service_, "start");
    }
    ServiceOutage(const ServiceOutage&) = delete;
    ServiceOutage& operator=(const ServiceOutage&) = delete;
    void end() {
        services_ctl(service_, "start");
        ended_ = true;
    }

private:
    std::string service_;
    bool ended_ = false;
};

template <class Suite>
class ServerSuite : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        try {
            auto server = std::make_unique<ServerProcess>(Suite::server_settings());
            server->wait_ready(60s);
            server_ = std::move(server);
        } catch (const std::exception& e) {
            start_error_ = e.what();
        }
    }
    static void TearDownTestSuite() { server_.reset(); }

    void SetUp() override {
        ASSERT_NE(server_, nullptr) << "server did not start: " << start_error_;
        ASSERT_TRUE(server_->is_running()) << "server exited with " << server_->exit_code().value_or(-1);
    }

    static std::vector<std::string> server_settings() { return {}; }
    static int port() { return server_->port(); }
    static ServerProcess& server() { return *server_; }

    inline static std::unique_ptr<ServerProcess> server_;
    inline static std::string start_error_;
};

}  // namespace ec::e2e
