#pragma once
// A database of one test's own on the test server: CREATE DATABASE <prefix>_<pid>_<random> on
// construction, DROP ... WITH (FORCE) on destruction. For tests that need a truly fresh schema
// (migrations) or table statistics no other test touches (query plans).
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <string>

#include "support/pg_admin.hpp"
#include "support/test_env.hpp"

namespace ec::test {

class ScratchDatabase {
public:
    explicit ScratchDatabase(const std::string& prefix) {
        std::random_device rd;
        name_ = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1'000'000'000);
        PgAdmin(test_env().pg_url).exec("CREATE DATABASE " + name_);
        url_ = url_for(test_env().pg_url, name_);
    }
    ~ScratchDatabase() {
        try {
            PgAdmin(test_env().pg_url).exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
    }
    ScratchDatabase(const ScratchDatabase&) = delete;
    ScratchDatabase& operator=(const ScratchDatabase&) = delete;

    const std::string& name() const { return name_; }
    const std::string& url() const { return url_; }  // the test server's URL, pointing at this database

    // `url` pointing at database `db` instead (query parameters kept).
    static std::string url_for(const std::string& url, const std::string& db) {
        const auto query = url.find('?');
        const std::string base = url.substr(0, query);
        const std::string params = query == std::string::npos ? "" : url.substr(query);
        return base.substr(0, base.rfind('/')) + "/" + db + params;
    }

private:
    std::string name_;
    std::string url_;
};

}  // namespace ec::test
