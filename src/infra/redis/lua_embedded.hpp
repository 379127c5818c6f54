#pragma once
// The Lua scripts embedded at build time by lua/embed.cmake (the generated ec_lua_scripts.cpp
// defines these). Use lua_script() from redis_client.hpp instead of reading them directly.
#include <cstddef>

namespace ec::infra::redis::detail {

struct EmbeddedLua {
    const char* name;            // file stem
    const unsigned char* bytes;  // file contents, NUL-terminated for convenience
    std::size_t size;            // without the terminator
};

extern const EmbeddedLua kEmbeddedLua[];
extern const std::size_t kEmbeddedLuaCount;

}  // namespace ec::infra::redis::detail
