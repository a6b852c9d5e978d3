// filemap/typed_access.hpp - bounds-checked, typed reads and writes over mapped bytes.
//
// One implementation of the typed API, shared by every class that exposes a
// window of mapped memory (FileMapping, and views of part of one). Allows
// copies in and out of trivially copyable types, strings stored with one
// '\0', and zero-copy typed spans. Forbids, by construction: any access
// outside the window (offset + length is checked without overflow and
// throws std::out_of_range naming all three), a partial write (the check
// comes first), writes through a read-only mapping (std::system_error with
// permission_denied), and non-trivially-copyable types (a compile error).
#pragma once

#include <filemap/error.hpp>
#include <filemap/options.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace filemap {

/// Types that may be copied byte for byte into and out of shared memory.
template <class T>
concept TriviallyCopyable = std::is_trivially_copyable_v<T>;

namespace detail {

/// CRTP base: `Derived` provides bytes(), size(), access() and name().
template <class Derived>
class TypedAccess {
public:
    /// A typed window of `count` T at `offset`, zero-copy. Throws out_of_range
    /// outside the mapping, invalid_argument if `offset` is misaligned for T,
    /// and permission_denied for a non-const T on a read-only mapping.
    template <TriviallyCopyable T>
    std::span<T> as_span(std::size_t offset, std::size_t count)
    {
        if constexpr (!std::is_const_v<T>) {
            check_writable("as_span");
        }
        if (count > max_size / sizeof(T)) {
            throw_out_of_range("as_span", offset,
                               std::to_string(count) + " x " + std::to_string(sizeof(T)));
        }
        check_bounds("as_span", offset, count * sizeof(T));
        std::byte* first = self().bytes().data() + offset;
        if (reinterpret_cast<std::uintptr_t>(first) % alignof(T) != 0) {
            Error error;
            error.set(std::errc::invalid_argument, "offset " + std::to_string(offset) +
                                                       " is not aligned to " +
                                                       std::to_string(alignof(T)) + " bytes");
            throw_error("as_span", self().name(), error);
        }
        return {reinterpret_cast<T*>(first), count};
    }

    /// Copies `data` to `offset`: all of it, or nothing and an exception.
    void write(std::span<const std::byte> data, std::size_t offset = 0)
    {
        check_writable("write");
        check_bounds("write", offset, data.size());
        copy(self().bytes().data() + offset, data.data(), data.size());
    }

    template <TriviallyCopyable T, std::size_t N>
    void write(std::span<T, N> items, std::size_t offset = 0)
    {
        write(std::span<const std::byte>(std::as_bytes(items)), offset);
    }

    /// Stores `text` followed by one '\0' (text.size() + 1 bytes).
    void write(std::string_view text, std::size_t offset = 0)
    {
        check_writable("write");
        check_bounds("write", offset, text.size(), 1);
        std::byte* target = self().bytes().data() + offset;
        copy(target, text.data(), text.size());
        target[text.size()] = std::byte{0};
    }

    template <TriviallyCopyable T>
    void write_value(const T& value, std::size_t offset = 0)
    {
        write(std::span<const T, 1>(&value, 1), offset);
    }

    /// Fills `out` with exactly out.size() bytes from `offset`.
    void read(std::span<std::byte> out, std::size_t offset = 0) const
    {
        check_bounds("read", offset, out.size());
        copy(out.data(), self().bytes().data() + offset, out.size());
    }

    template <TriviallyCopyable T, std::size_t N>
    requires(!std::is_const_v<T>) void read(std::span<T, N> out, std::size_t offset = 0) const
    {
        read(std::span<std::byte>(std::as_writable_bytes(out)), offset);
    }

    /// The text at `offset` up to the first '\0', or to the end of the
    /// mapping. Its bytes are scanned and copied within the mapping only, so
    /// a peer changing them meanwhile may change the text, never its bounds.
    std::string read_string(std::size_t offset = 0) const
    {
        check_bounds("read_string", offset, 0);
        // Every byte is read once, into a private chunk, and the NUL is looked
        // for there: a peer writing meanwhile cannot put a NUL inside the
        // result or move the end past the mapping.
        const std::byte* from = self().bytes().data() + offset;
        std::size_t room = self().size() - offset;
        std::string text;
        char chunk[256];
        while (room != 0) {
            const std::size_t length = std::min(room, sizeof chunk);
            copy(chunk, from, length);
            const void* nul = std::memchr(chunk, 0, length);
            if (nul != nullptr) {
                return text.append(chunk,
                                   static_cast<std::size_t>(static_cast<const char*>(nul) -
                                                            static_cast<const char*>(chunk)));
            }
            text.append(chunk, length);
            from += length;
            room -= length;
        }
        return text;
    }

    template <TriviallyCopyable T>
    T read_value(std::size_t offset = 0) const
    {
        static_assert(std::is_default_constructible_v<T>,
                      "read_value needs a default-constructible T");
        T value;
        read(std::span<T, 1>(&value, 1), offset);
        return value;
    }

private:
    static constexpr std::size_t max_size = static_cast<std::size_t>(-1);

    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
    Derived& self() noexcept { return static_cast<Derived&>(*this); }

    static void copy(void* to, const void* from, std::size_t length) noexcept
    {
        if (length != 0) {
            std::memcpy(to, from, length);
        }
    }

    void check_writable(const char* operation) const
    {
        if (self().access() == Access::read_only) {
            Error error;
            error.set(std::errc::permission_denied, "the mapping is read-only");
            throw_error(operation, self().name(), error);
        }
    }

    /// Throws unless [offset, offset + length + extra) lies inside the mapping.
    void check_bounds(const char* operation, std::size_t offset, std::size_t length,
                      std::size_t extra = 0) const
    {
        const std::size_t size = self().size();
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
        if (!self().name().empty()) {
            what += " " + quoted(self().name());
        }
        throw std::out_of_range(what + ": " + length + " bytes at offset " +
                                std::to_string(offset) + " do not fit in " +
                                std::to_string(self().size()) + " bytes");
    }
};

} // namespace detail
} // namespace filemap
