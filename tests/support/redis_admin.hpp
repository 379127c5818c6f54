#pragma once
// A plain blocking hiredis connection for tests: inspecting and arranging what the service keeps in
// Redis. Blocking is fine here: tests are not event loops.
#include <hiredis/hiredis.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_env.hpp"

namespace ec::test {

struct RedisValue {
    bool nil = true;
    long long integer = 0;
    std::string str;
    std::vector<RedisValue> elements;
};

class RedisAdmin {
public:
    explicit RedisAdmin(const std::string& url = test_env().redis_url) {
        // redis://host:port/db
        const auto rest = url.substr(url.find("//") + 2);
        const auto colon = rest.find(':');
        const auto slash = rest.find('/', colon);
        const auto host = rest.substr(0, colon);
        const int port = std::atoi(rest.substr(colon + 1, slash - colon - 1).c_str());
        timeval timeout{5, 0};
        ctx_ = redisConnectWithTimeout(host.c_str(), port, timeout);
        if (ctx_ == nullptr || ctx_->err != 0) {
            const std::string msg = ctx_ != nullptr ? ctx_->errstr : "allocation failed";
            if (ctx_ != nullptr) redisFree(ctx_);
            throw std::runtime_error("redis admin connection to " + url + " failed: " + msg);
        }
        redisSetTimeout(ctx_, timeout);
    }
    ~RedisAdmin() { redisFree(ctx_); }
    RedisAdmin(const RedisAdmin&) = delete;
    RedisAdmin& operator=(const RedisAdmin&) = delete;

    RedisValue command(const std::vector<std::string>& args) {
        std::vector<const char*> argv;
        std::vector<size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        auto* reply = static_cast<redisReply*>(
            redisCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data()));
        if (reply == nullptr) throw std::runtime_error(std::string("redis command failed: ") + ctx_->errstr);
        if (reply->type == REDIS_REPLY_ERROR) {
            const std::string msg(reply->str, reply->len);
            freeReplyObject(reply);
            throw std::runtime_error("redis error reply: " + msg);
        }
        auto value = convert(reply);
        freeReplyObject(reply);
        return value;
    }

    // The score of `member`, nullopt when absent.
    std::optional<long long> zscore(const std::string& key, const std::string& member) {
        const auto v = command({"ZSCORE", key, member});
        if (v.nil) return std::nullopt;
        return std::llround(std::strtod(v.str.c_str(), nullptr));
    }

private:
    static RedisValue convert(const redisReply* r) {
        RedisValue v;
        switch (r->type) {
            case REDIS_REPLY_NIL:
                break;
            case REDIS_REPLY_INTEGER:
                v.nil = false;
                v.integer = r->integer;
                break;
            case REDIS_REPLY_ARRAY:
                v.nil = false;
                for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(convert(r->element[i]));
                break;
            default:
                v.nil = false;
                if (r->str != nullptr) v.str.assign(r->str, r->len);
                break;
        }
        return v;
    }

    redisContext* ctx_ = nullptr;
};

}  // namespace ec::test
