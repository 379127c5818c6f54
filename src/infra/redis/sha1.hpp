#pragma once
// Minimal SHA-1, only to name Lua scripts the way Redis does (EVALSHA). Not for security: SHA-1
// is broken for that, and Redis uses it here merely as a content address.
#include <string>
#include <string_view>

namespace ec::infra::redis {

// Lower-case hex digest (40 characters), the form SCRIPT LOAD returns.
std::string sha1_hex(std::string_view data);

}  // namespace ec::infra::redis
