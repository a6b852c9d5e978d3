// filemap/options.hpp - how a mapping is opened and how long its name lives.
//
// Plain value types, no platform code. Defaults are the safe choice:
// read-write, scoped lifetime (the name goes away with its last user, as on
// Windows), owner-only permissions, and memory reserved at create so that a
// full /dev/shm is reported there rather than as SIGBUS later.
#pragma once

#include <cstddef>
#include <filesystem>

namespace filemap {

/// What a mapping lets this process do with the memory.
enum class Access {
    read_only,     ///< reads only; every typed write throws permission_denied
    read_write,    ///< reads and writes, seen by every process mapping the object
    copy_on_write, ///< writes stay private to this process and never reach the object
};

/// How long the *name* of a shared memory object lives.
enum class Lifetime {
    /// The name disappears when the last FileMapping referring to it, in any
    /// process, is closed or its process ends (crash-safe). The default.
    scoped,
    /// The name stays until FileMapping::remove(name). POSIX only; on Windows
    /// it is std::errc::not_supported.
    persistent,
};

/// Hints about how memory will be used (madvise on POSIX; on Windows,
/// willneed prefetches, dontneed discards, the others change nothing).
enum class Advice {
    normal,     ///< no particular pattern
    sequential, ///< read ahead aggressively, drop pages soon after
    random,     ///< no read-ahead
    willneed,   ///< fault the pages in now, in the background
    dontneed,   ///< drop this process's copies; shared contents stay
};

/// Options for objects that filemap creates.
struct Options {
    /// What the mapping lets this process do (read_write by default).
    Access access = Access::read_write;
    /// How long the name lives (scoped by default: like Windows).
    Lifetime lifetime = Lifetime::scoped;
    /// Exactly the mode a new object gets (the umask does not change it).
    /// Only the owner/group/others read, write and execute bits are allowed.
    std::filesystem::perms permissions =
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
    /// Fault every page in when mapping (MAP_POPULATE / PrefetchVirtualMemory).
    bool prefault = false;
    /// Back every page at create, so that running out of memory fails there
    /// with no_space_on_device instead of SIGBUS on first touch. false: sparse.
    bool reserve = true;
    /// Ask for huge pages. Linux: transparent huge pages (madvise
    /// MADV_HUGEPAGE; effective where the kernel enables them for shared
    /// memory). Windows, at create: a SEC_LARGE_PAGES section of whole large
    /// pages (GetLargePageMinimum), locked in memory; permission_denied,
    /// naming SeLockMemoryPrivilege, when the process lacks that privilege.
    bool huge_pages = false;
    /// 0: the object keeps the size it is created with. Else it may grow up
    /// to this many bytes (FileMapping::grow): address space for all of
    /// them is kept at once, so addresses never move, and only the bytes
    /// grown to are backed. Not with huge_pages; only a FileMapping grows.
    std::size_t max_size = 0;
};

} // namespace filemap
