// filemap/name.hpp - the portable name rules, checked before any system call.
//
// A name is 1 to 250 bytes of printable UTF-8, optionally after a Windows
// namespace prefix `Local\` or `Global\`: any character but control
// characters (U+0000-U+001F, U+007F-U+009F), '/' and '\' (which would reach
// into a directory or another namespace), and '#', which filemap reserves
// for the kernel objects it names after an object ("orders#lock" beside
// "orders", on Windows); "." and ".." are refused too. So GUID-style names,
// names with spaces and non-ASCII names work, and the same name means the
// same object on every platform: on POSIX the object is "/" + name (the
// prefix is accepted and ignored), which is what Python's
// multiprocessing.shared_memory and Boost.Interprocess use too; on Windows
// it is the name in UTF-16. Anything else is std::errc::invalid_argument
// with a message saying which rule broke.
#pragma once

#include <filemap/detail/utf8.hpp>
#include <filemap/error.hpp>

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace filemap::detail {

/// The longest name, in bytes of UTF-8, after any prefix.
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

/// Why the character `c` may not be in a name, or "" if it may.
inline std::string refused_character(char32_t c)
{
    if (c == 0) {
        return "a NUL character";
    }
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
        char code[16];
        std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
        return std::string("the control character ") + code;
    }
    switch (c) {
    case '/': return "'/'";
    case '\\': return "'\\' (only Local\\ or Global\\ may lead)";
    case derived_separator:
        return "'#' (reserved: filemap names its kernel objects \"<name>#<purpose>\")";
    default: return {};
    }
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
                                                   " bytes, the limit is " +
                                                   std::to_string(max_name_length));
        return {};
    }
    if (base == "." || base == "..") {
        error.set(std::errc::invalid_argument, "name may not be \".\" or \"..\"");
        return {};
    }
    for (std::size_t i = 0; i < base.size();) {
        const CodePoint c = decode_utf8(base, i);
        const std::string at = " at byte " + std::to_string(parsed.prefix.size() + i);
        if (c.length == 0) {
            error.set(std::errc::invalid_argument, "name is not valid UTF-8" + at);
            return {};
        }
        if (const std::string why = refused_character(c.value); !why.empty()) {
            error.set(std::errc::invalid_argument,
                      "name has " + why + at +
                          "; a name is printable UTF-8 without / \\ # after an optional "
                          "Local\\ or Global\\");
            return {};
        }
        i += c.length;
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
