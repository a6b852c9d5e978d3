// filemap/detail/win32/growth.hpp - growable sections on Windows: SEC_RESERVE, committed as they
// grow.
//
// A growable object is a paging-file section made with SEC_RESERVE: its
// size is the most it may ever hold, and its pages are committed later
// (VirtualAlloc(MEM_COMMIT) through any read-write view), section-wide: every
// view in every process sees a commit, also views mapped before it. Each
// process maps the whole section once, so addresses never move.
//
// No header in the user's bytes, so what others learn comes from the kernel:
//  - max_size: NtQuerySection reports the section's size and its SEC_RESERVE
//    attribute. The section holds one page more than max_size (rounded up to
//    a page), which views map but nobody commits: Wine records a commit
//    whose range includes the last page of a view or section only in the
//    committing view (seen: a grow to the very end was invisible to other
//    processes). An opener learns max_size rounded up to a page.
//  - the current size: the run of committed pages from the base
//    (VirtualQuery), so an opener learns it rounded up to a page; those
//    extra bytes are zero.
// A plain Win32 program that maps such a section whole must do the same
// VirtualQuery before touching it: an uncommitted page is an access
// violation on Windows (Wine does not fault there).
#pragma once

#include <filemap/detail/port.hpp>
#include <filemap/detail/win32/api.hpp>
#include <filemap/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace filemap::detail::win {

inline std::size_t whole_pages(std::size_t bytes) noexcept
{
    return (bytes + page - 1) & ~(page - 1);
}

/// What MapViewOfFile needs for a view with `access`.
inline unsigned long view_rights(Access access) noexcept
{
    return access == Access::read_only    ? file_map_read
           : access == Access::read_write ? file_map_write
                                          : file_map_copy;
}

/// The size of a SEC_RESERVE section that may grow to `max_size` bytes.
inline std::size_t growable_section_size(std::size_t max_size, Error& error)
{
    if (max_size > std::numeric_limits<std::size_t>::max() - 2 * page) {
        error.set(std::errc::not_enough_memory, "max_size is larger than the address space");
        return 0;
    }
    return whole_pages(max_size) + page;
}

/// What a section tells an opener it may grow to: 0 unless SEC_RESERVE.
inline std::uint64_t growth_limit_of(const SectionBasicInformation& info, Error& error)
{
    if ((info.attributes & sec_reserve) == 0) {
        return 0;
    }
    const auto size = static_cast<std::uint64_t>(info.size);
    if (size < 2 * page) { // not one of ours: all of it may be committed
        return size;
    }
    if (size > std::numeric_limits<std::size_t>::max()) {
        error.set(std::errc::not_enough_memory, "the object may grow beyond the address space");
        return 0;
    }
    return size - page;
}

/// Maps the whole of a growable section, of which `request.length` bytes
/// are committed.
inline Mapped map_growable(void* section, void* file, const MapRequest& request, Error& error)
{
    if (file != nullptr) {
        error.set(std::errc::not_supported,
                  "a file mapping cannot grow on Windows: its section would have to be replaced "
                  "at the same address");
        return {};
    }
    // The whole section, its last page too: Wine shows other views no
    // commit that includes a view's last page, so that page stays uncommitted.
    const std::size_t reserved = growable_section_size(request.capacity, error);
    if (error) {
        return {};
    }
    const unsigned long rights = view_rights(request.access);
    void* base = MapViewOfFile(section, rights, 0, 0, reserved);
    if (base == nullptr) {
        set_win32(error, GetLastError(), "MapViewOfFile");
        return {};
    }
    return {base, std::min(whole_pages(request.length), reserved), 0, reserved};
}

/// How many bytes from the base of `mapped` are committed (whole pages).
inline std::uint64_t committed_run(const Mapped& mapped, Error& error)
{
    MemoryBasicInformation info{};
    if (VirtualQuery(mapped.base, reinterpret_cast<_MEMORY_BASIC_INFORMATION*>(&info),
                     sizeof info) == 0) {
        set_win32(error, GetLastError(), "VirtualQuery");
        return 0;
    }
    if (info.state != mem_commit) {
        return 0;
    }
    return std::min<std::uint64_t>(info.region_size, mapped.reserved);
}

} // namespace filemap::detail::win
