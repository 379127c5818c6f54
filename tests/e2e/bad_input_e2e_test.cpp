// Malformed, oversized and hostile input (SPEC §4.1, §11): every case gets its exact 4xx status
// and error code, nothing is written, and the server keeps serving. Users 7200-7219 belong to this
// file; user 7200 is only ever sent rejected charges (until the final sanity charge).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "e2e/e2e_support.hpp"

namespace ec::e2e {
namespace {

class BadInputE2E : public ServerSuite<BadInputE2E> {};

HttpResponse from_raw(const std::string& bytes) {
    HttpResponse out;
    const auto parsed = parse_raw_responses(bytes);
    if (parsed.empty()) {
        out.body = bytes.substr(0, 300);
        return out;  // status 0
    }
    out.status = parsed[0].status;
    out.body = parsed[0].body;
    for (const auto& [name, value] : parsed[0].headers) out.headers[name] = value;
    return out;
}

struct Case {
    std::string name;
    // Sends the request for `user` (whose charges must all be rejected); `key` is unique per case.
    std::function<HttpResponse(HttpClient&, std::int64_t user, const std::string& key)> send;
    int status;
    std::string code;
    std::string message_contains;  // "" = any message
    std::string allow;             // expected Allow header ("" = not checked)
};

std::string json_with(const std::string& amount_json, const std::string& key_json) {
    return R"({"amount":)" + amount_json + R"(,"idempotencyKey":)" + key_json + "}";
}
std::string jstr(const std::string& s) {
    return "\"" + s + "\"";
}

std::vector<Case> cases() {
    auto post_json = [](std::function<std::string(const std::string& key)> body) {
        return [body](HttpClient& c, std::int64_t user, const std::string& key) {
            return c.post(charge_path(user), body(key));
        };
    };
    const std::string two_mib(2 * 1024 * 1024, 'x');
    return {
        {"malformed JSON",
         post_json([](const std::string& k) { return R"({"amount": 100, "idempotencyKey": ")" + k; }), 400,
         "COMMON002", ""},
        {"JSON with trailing garbage",
         post_json([](const std::string& k) { return json_with("100", jstr(k)) + " x"; }), 400, "COMMON002",
         ""},
        {"JSON array body",
         post_json([](const std::string& k) { return "[" + json_with("100", jstr(k)) + "]"; }), 400,
         "COMMON002", ""},
        {"empty body", post_json([](const std::string&) { return std::string(); }), 400, "COMMON002", ""},
        {"missing amount",
         post_json([](const std::string& k) { return R"({"idempotencyKey":")" + k + R"("})"; }), 400,
         "COMMON002", "amount"},
        {"amount null", post_json([](const std::string& k) { return json_with("null", jstr(k)); }), 400,
         "COMMON002", "amount"},
        {"missing idempotencyKey",
         post_json([](const std::string&) { return std::string(R"({"amount":100})"); }), 400, "COMMON002",
         "idempotencyKey"},
        {"amount as string", post_json([](const std::string& k) { return json_with("\"100\"", jstr(k)); }),
         400, "COMMON002", "amount"},
        {"amount 1.5", post_json([](const std::string& k) { return json_with("1.5", jstr(k)); }), 400,
         "COMMON002", "amount"},
        {"amount boolean", post_json([](const std::string& k) { return json_with("true", jstr(k)); }), 400,
         "COMMON002", "amount"},
        {"idempotencyKey as number", post_json([](const std::string&) { return json_with("100", "12345"); }),
         400, "COMMON002", "idempotencyKey"},
        {"amount 0", post_json([](const std::string& k) { return json_with("0", jstr(k)); }), 400, "U002",
         ""},
        {"amount -1", post_json([](const std::string& k) { return json_with("-1", jstr(k)); }), 400, "U002",
         ""},
        {"amount 10,000,001", post_json([](const std::string& k) { return json_with("10000001", jstr(k)); }),
         400, "U002", ""},
        {"amount int64 max",
         post_json([](const std::string& k) { return json_with("9223372036854775807", jstr(k)); }), 400,
         "U002", ""},
        {"amount int64 min",
         post_json([](const std::string& k) { return json_with("-9223372036854775808", jstr(k)); }), 400,
         "U002", ""},
        {"blank idempotencyKey", post_json([](const std::string&) { return json_with("100", "\"   \""); }),
         400, "COMMON002", "idempotencyKey"},
        {"empty idempotencyKey", post_json([](const std::string&) { return json_with("100", "\"\""); }), 400,
         "COMMON002", "idempotencyKey"},
        {"idempotencyKey of 101 chars", post_json([](const std::string& k) {
             std::string key = k;
             key.resize(101, 'k');
             return json_with("100", jstr(key));
         }),
         400, "COMMON002", "idempotencyKey"},
        {"idempotencyKey of 101 multi-byte chars", post_json([](const std::string& k) {
             std::string key = k;
             for (std::size_t i = k.size(); i < 101; ++i) key += "\xea\xb0\x80";  // U+AC00
             return json_with("100", jstr(key));
         }),
         400, "COMMON002", "idempotencyKey"},
        {"non-numeric user id",
         [](HttpClient& c, std::int64_t, const std::string& k) {
             return c.post("/api/users/abc/balance/charge", charge_body(100, k));
         },
         400, "COMMON002", "userId"},
        {"user id overflowing int64",
         [](HttpClient& c, std::int64_t, const std::string& k) {
             return c.post("/api/users/99999999999999999999/balance/charge", charge_body(100, k));
         },
         400, "COMMON002", "userId"},
        {"unknown route",
         [](HttpClient& c, std::int64_t user, const std::string& k) {
             return c.post(charge_path(user) + "/now", charge_body(100, k));
         },
         404, "COMMON003", ""},
        {"PUT on charge",
         [](HttpClient& c, std::int64_t user, const std::string& k) {
             return c.put(charge_path(user), charge_body(100, k));
         },
         405, "COMMON004", "", "POST"},
        {"2 MiB body",
         [two_mib](HttpClient& c, std::int64_t user, const std::string& k) {
             return c.post(charge_path(user),
                           R"({"amount":100,"idempotencyKey":")" + k + R"(","pad":")" + two_mib + R"("})");
         },
         413, "COMMON005", ""},
        {"2 MiB chunked body",
         [two_mib](HttpClient& c, std::int64_t user, const std::string& k) {
             const std::string body =
                 R"({"amount":100,"idempotencyKey":")" + k + R"(","pad":")" + two_mib + R"("})";
             char size[32];
             std::snprintf(size, sizeof size, "%zx", body.size());
             const std::string req = "POST " + charge_path(user) +
                                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n" +
                                     size + "\r\n" + body + "\r\n0\r\n\r\n";
             return from_raw(HttpClient::raw(c.port(), req, 10s, true));
         },
         413, "COMMON005", ""},
        {"text/plain body",
         [](HttpClient& c, std::int64_t user, const std::string& k) {
             return c.post(charge_path(user), charge_body(100, k), "text/plain");
         },
         415, "COMMON006", ""},
        {"body without Content-Type",
         [](HttpClient& c, std::int64_t user, const std::string& k) {
             return c.post(charge_path(user), charge_body(100, k), "");
         },
         415, "COMMON006", ""},
        {"headers over 16 KiB",
         [](HttpClient& c, std::int64_t user, const std::string& k) {
             return c.post(charge_path(user), charge_body(100, k), "application/json",
                           {{"X-Padding", std::string(17 * 1024, 'h')}});
         },
         431, "COMMON002", ""},
        {"garbage request line",
         [](HttpClient& c, std::int64_t, const std::string&) {
             return from_raw(HttpClient::raw(c.port(), "THIS IS NOT HTTP\r\n\r\n", 5s, true));
         },
         400, "COMMON002", ""},
    };
}

TEST_F(BadInputE2E, EveryBadRequestGetsItsCodeAndWritesNothing) {
    constexpr std::int64_t user = 7200;
    Pg pg;
    const std::int64_t balance_before = pg.balance(user);
    const std::int64_t rows_before = pg.idempotency_rows(user);

    for (const auto& c : cases()) {
        SCOPED_TRACE("case: " + c.name);
        const std::string key = unique_key("bad");
        HttpClient client(port(), 20s);
        HttpResponse r;
        try {
            r = c.send(client, user, key);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "request failed: " << e.what();
            continue;
        }
        expect_error(r, c.status, c.code);
        if (!c.message_contains.empty()) {
            EXPECT_NE(error_message(r).find(c.message_contains), std::string::npos)
                << "message should name '" << c.message_contains << "': " << r.body;
        }
        if (!c.allow.empty()) EXPECT_EQ(r.header("allow"), c.allow);
        // Nothing written.
        EXPECT_EQ(pg.balance(user), balance_before);
        EXPECT_EQ(pg.idempotency_rows(user), rows_before);
        EXPECT_EQ(
            pg.int64("SELECT count(*) FROM idempotency_records WHERE idempotency_key LIKE $1", {key + "%"}),
            0);
        ASSERT_TRUE(server().is_running()) << "server died";
    }

    // The server still serves, on new and on kept-alive connections, and a well-formed charge of
    // the same shape succeeds (so the cases above were rejected for the reason under test).
    HttpClient client(port());
    for (int i = 0; i < 3; ++i) {
        const auto b = client.get(balance_path(user));
        ASSERT_EQ(b.status, 200) << b.body;
        EXPECT_EQ(as_i64(b.json().at("balance")), balance_before);
    }
    const auto health = client.get("/actuator/health");
    EXPECT_EQ(health.status, 200) << health.body;
    const std::string key = unique_key("bad-final");
    const auto ok = client.post(charge_path(user), charge_body(100, key));
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(pg.balance(user), balance_before + 100);
    EXPECT_EQ(pg.idempotency_rows(user), rows_before + 1);
}

// Sends `first`, waits `pause` (so the server reads and parses it on its own), sends `second`, and
// returns everything received until the server closes the connection (or 5 s pass).
std::string send_in_two_parts(int port, const std::string& first, const std::string& second,
                              std::chrono::milliseconds pause) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("connect failed");
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto send_all = [fd](const std::string& bytes) {
        for (std::size_t sent = 0; sent < bytes.size();) {
            const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return;  // the server may answer and close early
            sent += static_cast<std::size_t>(n);
        }
    };
    send_all(first);
    std::this_thread::sleep_for(pause);
    send_all(second);
    ::shutdown(fd, SHUT_WR);
    std::string out;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// server.max-header-size (16 KiB) bounds the whole header block, however it is split across TCP
// reads: ~12 KB of small fields, a pause, then ~12 KB more must get 431 like one 17 KiB field does.
TEST_F(BadInputE2E, HeaderLimitCoversTheWholeHeaderBlock) {
    auto fields = [](int from, int to) {
        std::string out;
        for (int i = from; i < to; ++i)
            out += "X-H" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
        return out;
    };
    const std::string head =
        "GET " + balance_path(7202) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    const std::string first = head + fields(0, 250);       // ~12.4 KB
    const std::string second = fields(250, 500) + "\r\n";  // ~12.5 KB more: ~25 KB in all
    ASSERT_GT(first.size() + second.size(), 24u * 1024);
    const auto responses = parse_raw_responses(send_in_two_parts(port(), first, second, 200ms));
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 431) << "a ~25 KB header block was accepted: " << responses[0].body;

    HttpClient client(port());
    EXPECT_EQ(client.get(balance_path(7202)).status, 200);
}

TEST_F(BadInputE2E, ErrorResponsesKeepTheConnectionAlive) {
    constexpr std::int64_t user = 7201;
    HttpClient client(port());
    expect_error(client.post(charge_path(user), "{nope"), 400, "COMMON002");
    expect_error(client.post(charge_path(user), charge_body(0, unique_key("bad-ka"))), 400, "U002");
    expect_error(client.get("/api/nope"), 404, "COMMON003");
    expect_error(client.request("DELETE", charge_path(user)), 405, "COMMON004");
    expect_error(client.post(charge_path(user), "x", "text/plain"), 415, "COMMON006");
    const auto b = client.get(balance_path(user));
    EXPECT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(client.connections_opened(), 1);
}

}  // namespace
}  // namespace ec::e2e
