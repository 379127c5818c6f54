#include <map>
#include <stdexcept>
#include <string>

#include "infra/redis/lua_embedded.hpp"
#include "infra/redis/redis_client.hpp"
#include "infra/redis/sha1.hpp"

namespace ec::infra::redis {

const LuaScript& lua_script(std::string_view name) {
    // Built once, on first use (thread-safe static initialisation); entries never move, so the
    // returned references stay valid for the program's lifetime.
    static const std::map<std::string, LuaScript, std::less<>> scripts = [] {
        std::map<std::string, LuaScript, std::less<>> m;
        for (std::size_t i = 0; i < detail::kEmbeddedLuaCount; ++i) {
            const auto& e = detail::kEmbeddedLua[i];
            LuaScript s;
            s.name = e.name;
            s.source.assign(reinterpret_cast<const char*>(e.bytes), e.size);
            s.sha1 = sha1_hex(s.source);
            m.emplace(s.name, std::move(s));
        }
        return m;
    }();
    const auto it = scripts.find(name);
    if (it == scripts.end()) {
        throw std::out_of_range("unknown Lua script '" + std::string(name) + "' (no src/infra/redis/lua/" +
                                std::string(name) + ".lua)");
    }
    return it->second;
}

}  // namespace ec::infra::redis
