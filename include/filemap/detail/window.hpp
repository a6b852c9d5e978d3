// filemap/detail/window.hpp - the typed, bounds-checked API over one mapped window.
//
// FileMapping (a window of a whole object) and View (a window of part of
// one) derive from Window and add only what differs between them; the API
// is written once, here. It allows copies in and out of trivially copyable
// types, strings (narrow, wide, UTF-16) stored with one zero code unit, and
// zero-copy typed spans. It forbids,
// by construction: any access outside the window (offset + length is checked
// without overflow and throws std::out_of_range naming all three), a partial
// write (the checks come first), writes through a read-only mapping
// (permission_denied), any use of a closed object (bad_file_descriptor),
// and non-trivially-copyable types (a compile error). `const` means const: a
// const window gives only const spans and no writes.
#pragma once

#include <filemap/detail/mapping.hpp>
#include <filemap/error.hpp>
#include <filemap/options.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace filemap {

/// Types that may be copied byte for byte into and out of shared memory.
template <class T>
concept TriviallyCopyable = std::is_trivially_copyable_v<T>;

namespace detail {

/// The API FileMapping and View share, over the Mapping they own.
class Window {
public:
    /// Whether this holds a mapping; false when empty, closed or moved from.
    bool is_open() const noexcept { return mapping_.is_open(); }
    /// is_open().
    explicit operator bool() const noexcept { return is_open(); }
    /// Bytes mapped; 0 when closed.
    std::size_t size() const noexcept { return mapping_.size(); }
    /// The name as given (the path for files); "" when unnamed or closed.
    std::string_view name() const noexcept { return mapping_.name(); }
    /// What this mapping lets the process do with the memory.
    Access access() const noexcept { return mapping_.access(); }

    /// The whole window, zero-copy; empty when closed. The one door around
    /// the access checks: writing here through a read_only mapping faults.
    std::span<std::byte> bytes() noexcept { return {mapping_.data(), mapping_.size()}; }
    /// The whole window, read-only, zero-copy; empty when closed.
    std::span<const std::byte> bytes() const noexcept { return {mapping_.data(), mapping_.size()}; }

    /// A typed window of `count` T at `offset`, zero-copy. Throws
    /// std::out_of_range outside the mapping; std::system_error with
    /// invalid_argument if `offset` is misaligned for T, permission_denied
    /// for a non-const T on a read-only mapping, bad_file_descriptor if closed.
    template <TriviallyCopyable T>
    std::span<T> as_span(std::size_t offset, std::size_t count)
    {
        if constexpr (!std::is_const_v<T>) {
            check_writable("as_span");
        }
        return std::as_const(*this).typed<T>(offset, count);
    }

    /// A read-only typed window of `count` const T at `offset`, zero-copy;
    /// fails as the non-const form does. A const mapping gives only const T.
    template <TriviallyCopyable T>
    std::span<T> as_span(std::size_t offset, std::size_t count) const
    {
        static_assert(std::is_const_v<T>,
                      "a const mapping gives read-only spans: use as_span<const T>");
        return typed<T>(offset, count);
    }

    /// Copies `data` to `offset`: all of it, or nothing and an exception
    /// (std::out_of_range outside the mapping; std::system_error with
    /// permission_denied if read-only, bad_file_descriptor if closed).
    void write(std::span<const std::byte> data, std::size_t offset = 0)
    {
        check_writable("write");
        check_bounds("write", offset, data.size());
        copy(mapping_.data() + offset, data.data(), data.size());
    }

    /// Copies the bytes of `items` to `offset`; fails as write(bytes) does.
    template <TriviallyCopyable T, std::size_t N>
    void write(std::span<T, N> items, std::size_t offset = 0)
    {
        write(std::span<const std::byte>(std::as_bytes(items)), offset);
    }

    /// Stores `text` and one '\0' (text.size() + 1 bytes) at `offset`; fails
    /// as write(bytes) does, and then writes nothing.
    void write(std::string_view text, std::size_t offset = 0) { write_text("write", text, offset); }
    /// Stores the code units of `text` and one L'\0' at `offset` (which need
    /// not be aligned): UTF-16 on Windows, exactly the bytes a UNICODE
    /// program's CopyMemory of a TCHAR string stores; UTF-32 on Linux.
    /// Fails as write(bytes) does, and then writes nothing.
    void write(std::wstring_view text, std::size_t offset = 0)
    {
        write_text("write", text, offset);
    }
    /// Stores the UTF-16 code units of `text` and one u'\0' at `offset` (which
    /// need not be aligned), on every platform; fails as write(bytes) does.
    void write(std::u16string_view text, std::size_t offset = 0)
    {
        write_text("write", text, offset);
    }

    /// Copies the bytes of `value` to `offset`; fails as write(bytes) does.
    template <TriviallyCopyable T>
    void write_value(const T& value, std::size_t offset = 0)
    {
        write(std::span<const T, 1>(&value, 1), offset);
    }

    /// Fills `out` with exactly out.size() bytes from `offset`. Throws
    /// std::out_of_range outside the mapping, std::system_error with
    /// bad_file_descriptor if closed; `out` is untouched then.
    void read(std::span<std::byte> out, std::size_t offset = 0) const
    {
        check_bounds("read", offset, out.size());
        copy(out.data(), mapping_.data() + offset, out.size());
    }

    /// Fills `out` with the bytes at `offset`; fails as read(bytes) does.
    template <TriviallyCopyable T, std::size_t N>
    requires(!std::is_const_v<T>) void read(std::span<T, N> out, std::size_t offset = 0) const
    {
        read(std::span<std::byte>(std::as_writable_bytes(out)), offset);
    }

    /// The text at `offset` up to the first '\0', or to the end of the
    /// mapping. Throws std::out_of_range if `offset` is past the end,
    /// std::system_error with bad_file_descriptor if closed. Each byte is
    /// read once, so a peer writing meanwhile may change the text, never
    /// its bounds.
    std::string read_string(std::size_t offset = 0) const
    {
        return read_text<char>("read_string", offset);
    }
    /// The wide text at `offset` (need not be aligned) up to the first
    /// L'\0', or to the last whole code unit before the end of the mapping:
    /// what a UNICODE Windows program (TCHAR, AutoHotkey's StrPut, AutoIt's
    /// wchar[]) wrote, on Windows. Fails as read_string() does, and reads
    /// each code unit once.
    std::wstring read_wstring(std::size_t offset = 0) const
    {
        return read_text<wchar_t>("read_wstring", offset);
    }
    /// The UTF-16 text at `offset` (need not be aligned) up to the first
    /// u'\0', or to the last whole code unit before the end of the mapping,
    /// on every platform. Fails as read_string() does.
    std::u16string read_u16string(std::size_t offset = 0) const
    {
        return read_text<char16_t>("read_u16string", offset);
    }

    /// The T whose bytes are at `offset`; fails as read(bytes) does.
    template <TriviallyCopyable T>
    T read_value(std::size_t offset = 0) const
    {
        static_assert(std::is_default_constructible_v<T>,
                      "read_value needs a default-constructible T");
        T value;
        read(std::span<T, 1>(&value, 1), offset);
        return value;
    }

    /// Writes changed pages back: for a file, to the disk before returning;
    /// nothing to do for read_only and copy_on_write mappings. Throws
    /// std::system_error (bad_file_descriptor if closed).
    void flush()
    {
        dispatch("flush", name(), nullptr, [&](Error& e) { mapping_.flush(e); });
    }
    /// flush(), reporting a failure in `ec` instead.
    void flush(std::error_code& ec) noexcept
    {
        Error error;
        mapping_.flush(error);
        ec = error.code();
    }

    /// A hint about how the memory will be used (see Advice). Throws
    /// std::system_error: invalid_argument for a value outside Advice,
    /// bad_file_descriptor if closed.
    void advise(Advice advice)
    {
        dispatch("advise", name(), nullptr, [&](Error& e) { mapping_.advise(advice, e); });
    }
    /// advise(), reporting a failure in `ec` instead.
    void advise(Advice advice, std::error_code& ec)
    {
        dispatch("advise", name(), &ec, [&](Error& e) { mapping_.advise(advice, e); });
    }

    /// Unmaps and closes; idempotent. Empty afterwards.
    void close() noexcept { mapping_.close(); }

protected:
    /// An empty window.
    Window() noexcept = default;
    /// Takes over `mapping`.
    explicit Window(Mapping mapping) noexcept : mapping_(std::move(mapping)) {}

    /// What this window owns: the handle and its mapped view.
    Mapping mapping_;

private:
    static constexpr std::size_t max_size = static_cast<std::size_t>(-1);

    static void copy(void* to, const void* from, std::size_t length) noexcept
    {
        if (length != 0) {
            std::memcpy(to, from, length);
        }
    }

    /// Stores the code units of `text` and one zero unit; all or nothing.
    template <class Char>
    void write_text(const char* operation, std::basic_string_view<Char> text, std::size_t offset)
    {
        check_writable(operation);
        check_bounds(operation, offset, text.size() * sizeof(Char), sizeof(Char));
        std::byte* target = mapping_.data() + offset;
        copy(target, text.data(), text.size() * sizeof(Char));
        const Char zero{};
        copy(target + text.size() * sizeof(Char), &zero, sizeof(Char));
    }

    /// The code units at `offset` up to the first zero unit or the last
    /// whole unit of the mapping. Every unit is copied once into a private
    /// chunk and the zero looked for there: a peer writing meanwhile cannot
    /// put a zero inside the result or move the end past the mapping.
    template <class Char>
    std::basic_string<Char> read_text(const char* operation, std::size_t offset) const
    {
        check_bounds(operation, offset, 0);
        const std::byte* from = mapping_.data() + offset;
        std::size_t units = (mapping_.size() - offset) / sizeof(Char);
        std::basic_string<Char> text;
        Char chunk[256 / sizeof(Char)];
        while (units != 0) {
            const std::size_t length = std::min(units, std::size(chunk));
            copy(chunk, from, length * sizeof(Char));
            const Char* end = std::find(chunk, chunk + length, Char{});
            text.append(chunk, static_cast<std::size_t>(end - chunk));
            if (end != chunk + length) {
                break;
            }
            from += length * sizeof(Char);
            units -= length;
        }
        return text;
    }

    template <class T>
    std::span<T> typed(std::size_t offset, std::size_t count) const
    {
        if (count > max_size / sizeof(T)) {
            throw_out_of_range("as_span", offset,
                               std::to_string(count) + " x " + std::to_string(sizeof(T)));
        }
        check_bounds("as_span", offset, count * sizeof(T));
        std::byte* first = mapping_.data() + offset;
        if (reinterpret_cast<std::uintptr_t>(first) % alignof(T) != 0) {
            throw_error("as_span", name(), std::errc::invalid_argument,
                        "offset " + std::to_string(offset) + " is not aligned to " +
                            std::to_string(alignof(T)) + " bytes");
        }
        return {reinterpret_cast<T*>(first), count};
    }

    void check_open(const char* operation) const
    {
        if (!is_open()) {
            Error error;
            set_closed(error, "mapping");
            throw_error(operation, name(), error);
        }
    }

    void check_writable(const char* operation) const
    {
        check_open(operation);
        if (access() == Access::read_only) {
            throw_error(operation, name(), std::errc::permission_denied,
                        "the mapping is read-only");
        }
    }

    /// Throws unless open and [offset, offset + length + extra) lies inside.
    void check_bounds(const char* operation, std::size_t offset, std::size_t length,
                      std::size_t extra = 0) const
    {
        check_open(operation);
        const std::size_t size = mapping_.size();
        if (length > max_size - extra || offset > size || length + extra > size - offset) {
            throw_out_of_range(operation, offset,
                               std::to_string(length) +
                                   (extra ? " + " + std::to_string(extra) : ""));
        }
    }

    [[noreturn]] void throw_out_of_range(const char* operation, std::size_t offset,
                                         const std::string& length) const
    {
        std::string what = std::string("filemap: ") + operation;
        if (!name().empty()) {
            what += " " + quoted(name());
        }
        throw std::out_of_range(what + ": " + length + " bytes at offset " +
                                std::to_string(offset) + " do not fit in " +
                                std::to_string(mapping_.size()) + " bytes");
    }
};

} // namespace detail
} // namespace filemap
