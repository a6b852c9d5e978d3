// filemap/error.hpp - one error model for every platform.
//
// Every failure is a std::error_code in std::generic_category, so
// `ec == std::errc::no_such_file_or_directory` holds on Linux and Windows
// alike (Win32 codes are translated where they arise, in detail/win32.hpp).
// The throwing API raises std::system_error whose what() names the operation,
// the object and, where known, the rule or sizes involved:
//     filemap: open "orders": No such file or directory
// Each public operation is written once, against detail::Error; dispatch()
// turns it into the throwing or the std::error_code& form.
#pragma once

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace filemap::detail {

/// A failure being reported: the portable code plus an optional detail
/// ("existing object is 4096 bytes, asked for 8192") for the message.
class Error {
public:
    void set(std::errc code, std::string detail = {})
    {
        set(std::make_error_code(code), std::move(detail));
    }
    void set(std::error_code code, std::string detail = {})
    {
        value_ = code.value();
        category_ = &code.category();
        detail_ = std::move(detail);
    }
    /// Records an errno value; `detail` says what was being done if useful.
    void set_errno(int value, std::string detail = {})
    {
        set(std::error_code(value, std::generic_category()), std::move(detail));
    }
    void clear() noexcept
    {
        value_ = 0;
        category_ = nullptr;
        detail_.clear();
    }
    explicit operator bool() const noexcept { return value_ != 0; }
    /// Whether this is `code`: filemap records every code it tests in
    /// std::generic_category, so this compares without a virtual call (which
    /// matters where a sanitizer's check of one would need a descriptor).
    bool is(std::errc code) const noexcept
    {
        return value_ == static_cast<int>(code) && category_ == &std::generic_category();
    }
    /// The code; a cleared one (value 0, system category) when nothing failed.
    std::error_code code() const noexcept
    {
        return category_ != nullptr ? std::error_code(value_, *category_) : std::error_code();
    }
    const std::string& detail() const noexcept { return detail_; }

private:
    // Not a std::error_code: its default constructor calls a function of the
    // standard library, and an Error is made on every lock and send.
    int value_ = 0;
    const std::error_category* category_ = nullptr;
    std::string detail_;
};

/// Words for the codes this library reports, so messages read the same on
/// every C runtime (msvcrt says "Unknown error" for several of them).
inline std::string describe(const std::error_code& code)
{
    if (code.category() == std::generic_category()) {
        switch (static_cast<std::errc>(code.value())) {
        case std::errc::no_such_file_or_directory: return "No such file or directory";
        case std::errc::file_exists: return "File exists";
        case std::errc::invalid_argument: return "Invalid argument";
        case std::errc::permission_denied: return "Permission denied";
        case std::errc::result_out_of_range: return "Result out of range";
        case std::errc::no_space_on_device: return "No space left on device";
        case std::errc::not_enough_memory: return "Not enough memory";
        case std::errc::not_supported: return "Operation not supported";
        case std::errc::too_many_files_open: return "Too many open files";
        case std::errc::message_size: return "Message too long";
        case std::errc::bad_file_descriptor: return "Bad file descriptor";
        case std::errc::operation_not_permitted: return "Operation not permitted";
        case std::errc::timed_out: return "Timed out";
        case std::errc::resource_unavailable_try_again: return "Resource temporarily unavailable";
        default: break;
        }
    }
    return code.message();
}

/// The object as it appears in a message: quoted, with control bytes escaped
/// so that a hostile name cannot forge or hide text.
inline std::string quoted(std::string_view object)
{
    std::string out = "\"";
    for (const char c : object) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '"') {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", u);
            out += hex;
        } else {
            out += c;
        }
    }
    return out + '"';
}

/// "filemap: <operation> "<object>": <what went wrong>[: <detail>]"
inline std::string message(std::string_view operation, std::string_view object, const Error& error)
{
    std::string text = "filemap: ";
    text += operation;
    if (!object.empty()) {
        text += ' ';
        text += quoted(object);
    }
    text += ": " + describe(error.code());
    if (!error.detail().empty()) {
        text += ": " + error.detail();
    }
    return text;
}

/// A std::system_error whose what() is exactly our message: the standard
/// one appends the C runtime's words, which are "Unknown error" on msvcrt
/// for several codes and would repeat ours elsewhere.
class SystemError : public std::system_error {
public:
    SystemError(std::error_code code, std::string what)
        : std::system_error(code), what_(std::move(what))
    {
    }
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string what_;
};

/// Throws the SystemError for `operation` on `object`: the one place filemap throws.
[[noreturn]] inline void throw_error(std::string_view operation, std::string_view object,
                                     const Error& error)
{
    throw SystemError(error.code(), message(operation, object, error));
}

/// Throws `code` with `detail` for `operation` on `object`.
[[noreturn]] inline void throw_error(std::string_view operation, std::string_view object,
                                     std::errc code, std::string detail = {})
{
    Error error;
    error.set(code, std::move(detail));
    throw_error(operation, object, error);
}

/// Runs `body(Error&)` and reports a failure the way the caller chose: into
/// `*ec` (cleared on success) when `ec` is given, else as a thrown
/// SystemError. Every public throwing / std::error_code& pair is this one
/// call with and without `ec`, so the two forms cannot drift apart.
template <class Body>
auto dispatch(std::string_view operation, std::string_view object, std::error_code* ec, Body&& body)
{
    Error error;
    if constexpr (std::is_void_v<decltype(std::forward<Body>(body)(error))>) {
        std::forward<Body>(body)(error);
        if (ec != nullptr) {
            *ec = error.code();
        } else if (error) {
            throw_error(operation, object, error);
        }
    } else {
        auto result = std::forward<Body>(body)(error);
        if (ec != nullptr) {
            *ec = error.code();
        } else if (error) {
            throw_error(operation, object, error);
        }
        return result;
    }
}

} // namespace filemap::detail
