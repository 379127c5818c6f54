#pragma once
// Template part of PgPool: the transaction helper.
#include <exception>

namespace ec::infra::pg {

template <typename F>
auto PgPool::transaction(F body, ops::CallSite where) -> decltype(body(std::declval<PgConnection&>())) {
    Lease lease = co_await acquire(where);
    co_await lease->execute("BEGIN");
    std::exception_ptr failure;
    try {
        if constexpr (std::is_void_v<typename decltype(body(*lease))::value_type>) {
            co_await body(*lease);
            co_await lease->execute("COMMIT");
            co_return;
        } else {
            auto value = co_await body(*lease);
            co_await lease->execute("COMMIT");
            co_return value;
        }
    } catch (...) {
        failure = std::current_exception();
    }
    // co_await is not allowed inside a handler, hence the rollback out here.
    if (!lease->broken() && lease->in_transaction()) {
        try {
            co_await lease->execute("ROLLBACK");
        } catch (...) {
        }
    }
    std::rethrow_exception(failure);
}

}  // namespace ec::infra::pg
