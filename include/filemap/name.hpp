// filemap/name.hpp - the portable name rules, checked before any system call.
//
// A name is 1 to 250 characters of
// A-Z a-z 0-9 . _ -, optionally after a Windows namespace prefix `Local\` or
// `Global\`. The same name works on every platform: on POSIX the object is
// "/" + name (the prefix is accepted and ignored), which is what Python's
// multiprocessing.shared_memory and Boost.Interprocess use too. Anything else
// is std::errc::invalid_argument with a message saying which rule broke,
// so a name can never reach into a directory or alias another object.
#pragma once

#include <filemap/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace filemap::detail {

inline constexpr std::size_t max_name_length = 250;

/// Separates a name from the purpose of a kernel object filemap derives from
/// it (Windows: "orders#lock", a named mutex beside the mapping "orders").
/// Reserved: no valid name contains it, so no user object can collide.
inline constexpr char derived_separator = '#';

/// A checked name split into its Windows namespace prefix and the rest.
struct Name {
    std::string_view prefix; ///< "", "Local\\" or "Global\\"
    std::string_view base;   ///< the portable part, never empty
};

inline bool is_name_char(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/// Checks `name` against the rules; on failure sets `error` and returns {}.
inline Name parse_name(std::string_view name, Error& error)
{
    Name parsed{{}, name};
    for (const std::string_view prefix :
         {std::string_view("Local\\"), std::string_view("Global\\")}) {
        if (name.substr(0, prefix.size()) == prefix) {
            parsed = {name.substr(0, prefix.size()), name.substr(prefix.size())};
            break;
        }
    }
    const std::string_view base = parsed.base;
    if (base.empty()) {
        error.set(std::errc::invalid_argument,
                  parsed.prefix.empty() ? "name is empty" : "name is only a prefix");
        return {};
    }
    if (base.size() > max_name_length) {
        error.set(std::errc::invalid_argument, "name is " + std::to_string(base.size()) +
                                                   " characters, the limit is " +
                                                   std::to_string(max_name_length));
        return {};
    }
    if (base == "." || base == "..") {
        error.set(std::errc::invalid_argument, "name may not be \".\" or \"..\"");
        return {};
    }
    for (std::size_t i = 0; i < base.size(); ++i) {
        if (!is_name_char(base[i])) {
            const auto at = std::to_string(parsed.prefix.size() + i);
            const char c = base[i];
            std::string what = c == '\0'   ? std::string("a NUL character")
                               : c == '/'  ? std::string("'/'")
                               : c == '\\' ? std::string("'\\' (only Local\\ or Global\\ may lead)")
                                           : "character " + quoted(std::string_view(&c, 1));
            error.set(std::errc::invalid_argument,
                      "name has " + what + " at position " + at +
                          "; allowed are A-Z a-z 0-9 . _ - after an optional Local\\ or Global\\");
            return {};
        }
    }
    return parsed;
}

/// The name of the kernel object for `purpose` ("lock", "data", ...) beside
/// the object named `name`: the one place such names are made.
inline std::string derived_name(std::string_view name, std::string_view purpose)
{
    std::string derived(name);
    derived += derived_separator;
    derived += purpose;
    return derived;
}

} // namespace filemap::detail
