#pragma once
// Failures of the outside world as seen by use cases. Adapters throw subclasses (PgUnavailable,
// RedisUnavailable); the HTTP layer maps them all to 503 COMMON007 without knowing the adapters.
#include <stdexcept>

namespace ec::app {

class DependencyUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace ec::app
