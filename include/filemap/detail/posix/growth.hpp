// filemap/detail/posix/growth.hpp - growable objects on Linux: a reserved range, a recorded limit.
//
// A growable mapping maps the object once over its whole max_size, with no
// access (PROT_NONE): the address range is ours from then on, and growing
// is an mprotect of the next pages, never a new mmap, so nothing another
// thread maps can land inside it and a failed call leaves the range as it
// was. Pages past the end of the object stay inaccessible, so no access of
// ours can reach them (SIGBUS lives past the end of a file).
//
// The object keeps no header: its size is st_size, which any program reads
// with fstat (Python's shared_memory does), and the limit every process may
// grow it to is the extended attribute "user.filemap.max_size" (decimal
// text), set before the name appears. An attribute, like the bytes, can be
// rewritten by whoever may write the object: it is parsed as untrusted
// input. Growth is posix_fallocate, which only ever extends a file, so two
// processes growing at once never shrink it, and the pages are backed when
// it returns (no SIGBUS later on a full /dev/shm).
#pragma once

#include <filemap/detail/posix/system.hpp>
#include <filemap/error.hpp>
#include <filemap/options.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <sys/mman.h>
#include <sys/xattr.h>

namespace filemap::detail::posix {

/// Where a growable object keeps the limit its creator gave it.
inline constexpr const char* max_size_attribute = "user.filemap.max_size";

/// Records `max_size` on a new object, before anyone can open it.
inline void record_max_size(int fd, std::size_t max_size, Error& error)
{
    const std::string text = std::to_string(max_size);
    if (::fsetxattr(fd, max_size_attribute, text.data(), text.size(), 0) == 0) {
        return;
    }
    if (errno == ENOTSUP || errno == EOPNOTSUPP) {
        error.set(std::errc::not_supported,
                  "the file system keeps no user extended attributes, where a growable object "
                  "records its max_size for other processes (tmpfs keeps them from Linux 6.6)");
    } else {
        error.set_errno(errno, "recording max_size");
    }
}

/// A recorded max_size, as its text: 1 to 20 decimal digits, not 0, at
/// most 2^64 - 1. Anything else is invalid_argument: a peer wrote it.
inline std::uint64_t parse_max_size(std::string_view text, Error& error)
{
    if (text.size() > 20) { // leading zeros aside, no more digits than 2^64 - 1 has
        error.set(std::errc::invalid_argument, "corrupt max_size attribute: too long");
        return 0;
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        const unsigned digit = static_cast<unsigned char>(c) - unsigned{'0'};
        if (digit > 9 || value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
            error.set(std::errc::invalid_argument, "corrupt max_size attribute");
            return 0;
        }
        value = value * 10 + digit;
    }
    if (value == 0) {
        error.set(std::errc::invalid_argument, "corrupt max_size attribute: empty or 0");
    }
    return value;
}

/// The limit recorded on an object: 0 for one that cannot grow (no
/// attribute: a fixed object, or one made by another program).
inline std::uint64_t recorded_max_size(int fd, Error& error)
{
    char text[24] = {};
    const ssize_t length = ::fgetxattr(fd, max_size_attribute, text, sizeof text);
    if (length >= 0) {
        return parse_max_size(std::string_view(text, static_cast<std::size_t>(length)), error);
    }
    if (errno == ERANGE) { // longer than any number
        error.set(std::errc::invalid_argument, "corrupt max_size attribute: too long");
    } else if (errno != ENODATA && errno != ENOTSUP && errno != EOPNOTSUPP) {
        error.set_errno(errno, "reading max_size");
    }
    return 0;
}

/// Makes the object at least `size` bytes, every page of [from, size)
/// backed and zero; never shrinks it, whoever grows it at the same time.
/// (From 0 it would cost a walk over every page the object holds.)
inline void extend(int fd, std::size_t from, std::size_t size, Error& error)
{
    if (static_cast<std::uintmax_t>(size) >
        static_cast<std::uintmax_t>(std::numeric_limits<off_t>::max())) {
        error.set(std::errc::result_out_of_range,
                  "size is larger than the platform's file offsets");
        return;
    }
    const int result =
        ::posix_fallocate(fd, static_cast<off_t>(from), static_cast<off_t>(size - from));
    if (result == ENOSPC) {
        error.set(std::errc::no_space_on_device,
                  "growing to " + std::to_string(size) + " bytes: no space left");
    } else if (result != 0) {
        error.set_errno(result, "growing to " + std::to_string(size) + " bytes");
    }
}

inline int protection_of(Access access) noexcept
{
    return access == Access::read_only ? PROT_READ : PROT_READ | PROT_WRITE;
}

inline std::size_t whole_pages(std::size_t bytes) noexcept
{
    return (bytes + page_size() - 1) & ~(page_size() - 1);
}

/// Maps the object over `reserved` bytes (whole pages) with no access:
/// the range a growable mapping keeps for its life.
inline void* reserve_range(int fd, std::size_t reserved, Access access, Error& error)
{
    const int flags = access == Access::copy_on_write ? MAP_PRIVATE : MAP_SHARED;
    void* base = ::mmap(nullptr, reserved, PROT_NONE, flags | MAP_NORESERVE, fd, 0);
    if (base == MAP_FAILED) {
        error.set_errno(errno, "reserving " + std::to_string(reserved) + " bytes of address space");
        return nullptr;
    }
    return base;
}

/// Opens [from, to) of a reserved range (whole pages) to `access`.
inline void open_range(std::byte* base, std::size_t from, std::size_t to, Access access,
                       bool prefault, Error& error)
{
    if (to <= from) {
        return;
    }
    if (::mprotect(base + from, to - from, protection_of(access)) != 0) {
        error.set_errno(errno, "mapping " + std::to_string(to - from) + " more bytes");
        return;
    }
    if (prefault) { // best effort, as MAP_POPULATE is (Linux 5.14 has it)
        ::madvise(base + from, to - from,
                  access == Access::read_write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
    }
}

} // namespace filemap::detail::posix
