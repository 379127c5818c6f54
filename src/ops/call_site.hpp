#pragma once
// Where a call was made, for diagnostics (the pool's leak detection names the code that acquired a
// connection): `void f(CallSite where = CallSite::current())` records f's caller. The same as
// std::source_location, which clang-tidy 14 cannot parse with libstdc++ 12 (it needs
// __builtin_source_location); __builtin_FILE, __builtin_LINE and __builtin_FUNCTION work in GCC and
// Clang alike, and as default arguments they give the location of the outermost call.

namespace ec::ops {

struct CallSite {
    const char* file = "";
    unsigned line = 0;
    const char* function = "";

    static constexpr CallSite current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
                                      const char* function = __builtin_FUNCTION()) noexcept {
        return CallSite{file, line, function};
    }
};

}  // namespace ec::ops
