#pragma once
// A plain blocking libpq connection for tests: set-up, inspection of what the service wrote, and
// administration outside the pools under test. Blocking is fine here: tests are not event loops.
#include <libpq-fe.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_env.hpp"

namespace ec::test {

class PgAdmin {
public:
    explicit PgAdmin(const std::string& url = test_env().pg_url) {
        const std::string conninfo =
            url + (url.find('?') == std::string::npos ? "?" : "&") + "application_name=ec_test_admin";
        conn_ = PQconnectdb(conninfo.c_str());
        if (PQstatus(conn_) != CONNECTION_OK) {
            const std::string msg = PQerrorMessage(conn_);
            PQfinish(conn_);
            conn_ = nullptr;
            throw std::runtime_error("admin connection to " + url + " failed: " + msg);
        }
        // Kept rather than printed ("does not exist, skipping"); tests that lower client_min_messages
        // read them.
        PQsetNoticeProcessor(
            conn_,
            [](void* self, const char* message) {
                static_cast<PgAdmin*>(self)->notices_.emplace_back(message);
            },
            this);
    }
    ~PgAdmin() {
        if (conn_ != nullptr) PQfinish(conn_);
    }
    PgAdmin(const PgAdmin&) = delete;
    PgAdmin& operator=(const PgAdmin&) = delete;

    // Runs `sql` (several statements allowed when there are no parameters); returns the first field
    // of the first row, nullopt when there is no row or it is NULL.
    std::optional<std::string> scalar(const std::string& sql, const std::vector<std::string>& params = {}) {
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const auto& p : params) values.push_back(p.c_str());
        PGresult* res = params.empty() ? PQexec(conn_, sql.c_str())
                                       : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                                      nullptr, values.data(), nullptr, nullptr, 0);
        const auto status = PQresultStatus(res);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            const std::string msg = PQresultErrorMessage(res);
            PQclear(res);
            throw std::runtime_error("query failed: " + sql + ": " + msg);
        }
        std::optional<std::string> out;
        if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) out = PQgetvalue(res, 0, 0);
        PQclear(res);
        return out;
    }
    std::string exec(const std::string& sql, const std::vector<std::string>& params = {}) {
        return scalar(sql, params).value_or("");
    }
    long long number(const std::string& sql, const std::vector<std::string>& params = {}) {
        const auto v = scalar(sql, params);
        if (!v) throw std::runtime_error("query returned no value: " + sql);
        return std::stoll(*v);
    }

    // The notices and messages the server sent this session, oldest first.
    const std::vector<std::string>& notices() const { return notices_; }

private:
    PGconn* conn_ = nullptr;
    std::vector<std::string> notices_;
};

}  // namespace ec::test
