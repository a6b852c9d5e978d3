// filemap/detail/posix.hpp - every POSIX system call filemap makes, and nothing else.
//
// Exposes the same small set of names as detail/win32.hpp (Handle, View,
// create_named, open_named, open_or_create_named, remove_named,
// create_anonymous, adopt_native, open_file, map_view, ...), so that the public
// classes contain no platform branches. Calls retry on EINTR; errors go into
// detail::Error as errno values in std::generic_category.
//
// This file also implements the *scoped* lifetime: Windows semantics (the
// name dies with its last user, crash-safe) on top of shm_open. The protocol
// is documented next to lock_gate() below.
#pragma once

#include <filemap/detail/steps.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>

#include <gsl/util>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace filemap::detail {

using native_handle_type = int;

/// Calls `call` again while it fails with EINTR.
template <class Call>
auto retry_eintr(Call call)
{
    auto result = call();
    while (result == -1 && errno == EINTR) {
        result = call();
    }
    return result;
}

/* ---------------------------------------------------------------------------
 * Scoped lifetime on POSIX
 *
 * POSIX names live until shm_unlink; Windows names die with their last handle.
 * filemap gives the Windows behaviour with two kernel-released locks on the
 * object itself, so a holder killed by SIGKILL releases them as it dies:
 *
 *  - marker: scoped objects carry the sticky bit (S_ISVTX) from birth. An
 *    object without it (persistent, or made by Python, Boost, a shell) is
 *    never unlinked by a close or judged stale.
 *  - gate:   flock(LOCK_EX) on the object, held around create's
 *    initialisation, open's liveness check and close's last-holder check, so
 *    those three never interleave. flock works on read-only descriptors.
 *  - holder: every scoped handle holds an OFD read lock on byte 0. Under the
 *    gate, "does anyone else hold it?" is F_OFD_GETLK asking for a write lock:
 *    one's own read lock never conflicts, so no upgrade is needed.
 *
 * Under the gate, st_nlink > 0 proves the name still refers to the object we
 * locked: every unlink of a scoped object by filemap happens under its gate.
 * An object whose holders all died is "stale": the next create or open
 * unlinks it and treats the name as absent. A creator's object is not stale
 * while it initialises (it holds the gate); if an opener got the gate first
 * and unlinked the still empty object, the creator sees st_nlink == 0 and
 * starts over, so nobody ever maps a half-built (size 0) object.
 *
 * Persistent objects have no holders, but their creation must be just as
 * crash-safe: a creator killed before ftruncate would leave an empty object
 * that blocks the name forever. So a persistent object is born with the
 * setgid bit (S_ISGID, "unbuilt") and its creator holds the gate until the
 * final fchmod clears it. An opener that finds an unbuilt empty object waits
 * on the gate: either the creator finishes, or it died and the object is
 * stale. Objects made by other programs never carry that bit.
 *
 * Pitfalls this code avoids: a mapping keeps the open file description alive,
 * so locks are released explicitly rather than by close(); a forked child
 * shares the description (and its locks), so a handle remembers its process
 * and does not run the protocol from a fork; root ignores permission bits, so
 * exclusion never relies on them; in sticky /dev/shm only the owner can
 * unlink, so another user's last close leaves the name for the next
 * create/open to reclaim.
 * ------------------------------------------------------------------------ */

#if defined(F_OFD_SETLK)
inline constexpr bool scoped_supported = true;

inline bool set_holder_lock(int fd, short type) noexcept
{
    struct flock lock {};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 1;
    return retry_eintr([&] { return ::fcntl(fd, F_OFD_SETLK, &lock); }) == 0;
}

/// True if a descriptor other than `fd`'s holds the object (any process).
inline bool held_by_others(int fd) noexcept
{
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    probe.l_start = 0;
    probe.l_len = 1;
    if (::fcntl(fd, F_OFD_GETLK, &probe) != 0) {
        return true; // when in doubt, never unlink
    }
    return probe.l_type != F_UNLCK;
}
#else
inline constexpr bool scoped_supported = false; // needs OFD locks (Linux 3.15+)
inline bool set_holder_lock(int, short) noexcept
{
    return false;
}
inline bool held_by_others(int) noexcept
{
    return true;
}
#endif

inline bool lock_gate(int fd) noexcept
{
    return retry_eintr([&] { return ::flock(fd, LOCK_EX); }) == 0;
}

inline void unlock_gate(int fd) noexcept
{
    ::flock(fd, LOCK_UN);
}

inline bool is_scoped(const struct stat& st) noexcept
{
    return (st.st_mode & S_ISVTX) != 0;
}

/// An owned descriptor. A scoped holder also remembers its name and process,
/// and its close() runs the last-holder check. Unmap every view first.
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(int fd) noexcept : fd_(fd) {}
    Handle(Handle&& other) noexcept { swap(other); }
    Handle& operator=(Handle&& other) noexcept
    {
        Handle(std::move(other)).swap(*this);
        return *this;
    }
    ~Handle() { close(); }

    void swap(Handle& other) noexcept
    {
        std::swap(fd_, other.fd_);
        holds_.swap(other.holds_);
        std::swap(owner_, other.owner_);
    }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    /// The shm name this handle keeps alive; empty if none.
    const std::string& holds() const noexcept { return holds_; }

    /// Gives up ownership of the descriptor.
    int release() noexcept
    {
        holds_.clear();
        return std::exchange(fd_, -1);
    }

    /// Takes the holder lock: from now on this handle keeps `os_name` alive.
    bool become_holder(std::string os_name)
    {
        if (!set_holder_lock(fd_, F_RDLCK)) {
            return false;
        }
        holds_ = std::move(os_name);
        owner_ = ::getpid();
        return true;
    }

    void close() noexcept
    {
        if (fd_ < 0) {
            return;
        }
        // A copy inherited through fork() shares our locks: only the process
        // that took them runs the protocol, or a child's exit would unlink a
        // name its parent still holds.
        if (!holds_.empty() && owner_ == ::getpid() && lock_gate(fd_)) {
            FILEMAP_STEP("close: gate taken");
            struct stat st {};
            if (::fstat(fd_, &st) == 0 && st.st_nlink > 0 && !held_by_others(fd_)) {
                ::shm_unlink(holds_.c_str()); // may fail for another user's object: reclaimed later
                FILEMAP_STEP("close: unlinked");
            }
            set_holder_lock(fd_, F_UNLCK);
            FILEMAP_STEP("close: holder released");
            unlock_gate(fd_);
        }
        holds_.clear();
        ::close(std::exchange(fd_, -1));
    }

private:
    int fd_ = -1;
    std::string holds_; // the shm name this handle keeps alive; empty if none
    pid_t owner_ = 0;
};

inline void unmap(void* base, std::size_t length) noexcept
{
    ::munmap(base, length);
}

/// msync(MS_SYNC): for a file, the data is on disk when this returns.
inline void flush_range(void* base, std::size_t length, const Handle&, Error& error)
{
    if (::msync(base, length, MS_SYNC) != 0) {
        error.set_errno(errno, "msync");
    }
}

} // namespace filemap::detail

#include <filemap/detail/region.hpp>

namespace filemap::detail {

inline std::size_t page_size() noexcept
{
    static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

/// Maps [offset, offset + size) of `handle`; the offset need not be aligned.
inline Region map_view(const Handle& handle, std::uint64_t offset, std::size_t size, Access access,
                       bool prefault, Error& error, bool huge_pages = false)
{
    const auto skip = static_cast<std::size_t>(offset % page_size());
    if (size > std::numeric_limits<std::size_t>::max() - skip) {
        error.set(std::errc::not_enough_memory, "the view does not fit in the address space");
        return {};
    }
    const int protection = access == Access::read_only ? PROT_READ : PROT_READ | PROT_WRITE;
    int flags = access == Access::copy_on_write ? MAP_PRIVATE : MAP_SHARED;
#if defined(MAP_POPULATE)
    if (prefault) {
        flags |= MAP_POPULATE;
    }
#endif
    void* base = ::mmap(nullptr, skip + size, protection, flags, handle.get(),
                        static_cast<off_t>(offset - skip));
    if (base == MAP_FAILED) {
        error.set_errno(errno, "mapping " + std::to_string(skip + size) + " bytes");
        return {};
    }
#if !defined(MAP_POPULATE)
    if (prefault) {
        ::madvise(base, skip + size, MADV_WILLNEED);
    }
#endif
#if defined(MADV_HUGEPAGE)
    if (huge_pages && ::madvise(base, skip + size, MADV_HUGEPAGE) != 0) {
        error.set_errno(errno, "madvise(MADV_HUGEPAGE)");
        ::munmap(base, skip + size);
        return {};
    }
#else
    if (huge_pages) {
        error.set(std::errc::not_supported, "no transparent huge pages on this system");
        ::munmap(base, skip + size);
        return {};
    }
#endif
    return Region(base, skip + size, skip, size);
}

/// madvise over the pages that hold [data, data + size).
inline void advise(std::byte* data, std::size_t size, Advice advice, Error& error)
{
    const auto first = reinterpret_cast<std::uintptr_t>(data) & ~(page_size() - 1);
    const std::size_t length = reinterpret_cast<std::uintptr_t>(data) + size - first;
    const int how = advice == Advice::sequential ? MADV_SEQUENTIAL
                    : advice == Advice::random   ? MADV_RANDOM
                    : advice == Advice::willneed ? MADV_WILLNEED
                    : advice == Advice::dontneed ? MADV_DONTNEED
                                                 : MADV_NORMAL;
    if (size != 0 && ::madvise(reinterpret_cast<void*>(first), length, how) != 0) {
        error.set_errno(errno, "madvise");
    }
}

inline std::string posix_name(const Name& name)
{
    return "/" + std::string(name.base);
}

inline int open_flags(Access access) noexcept
{
    return access == Access::read_write ? O_RDWR : O_RDONLY;
}

inline bool fits_off_t(std::size_t size) noexcept
{
    return static_cast<std::uintmax_t>(size) <=
           static_cast<std::uintmax_t>(std::numeric_limits<off_t>::max());
}

/// Gives a new object its size: reserved (every page backed now, so a full
/// /dev/shm fails here rather than as SIGBUS on first touch) or sparse.
inline bool size_object(int fd, std::size_t size, bool reserve, Error& error)
{
    if (!fits_off_t(size)) {
        error.set(std::errc::invalid_argument, "size is larger than the platform's file offsets");
        return false;
    }
    if (reserve) {
        const int result = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
        if (result == 0) {
            return true;
        }
        if (result != EOPNOTSUPP && result != EINVAL) {
            error.set_errno(result, "reserving " + std::to_string(size) + " bytes");
            return false;
        }
        // the file system cannot reserve (EINVAL/EOPNOTSUPP): fall back to sparse
    }
    if (retry_eintr([&] { return ::ftruncate(fd, static_cast<off_t>(size)); }) != 0) {
        error.set_errno(errno, "setting the size to " + std::to_string(size) + " bytes");
        return false;
    }
    return true;
}

inline mode_t mode_of(std::filesystem::perms permissions) noexcept
{
    return static_cast<mode_t>(permissions & std::filesystem::perms::all);
}

/// A bounded number of rounds for create/open races; each round only repeats
/// when another process changed the name in between, so this is never reached
/// in practice and exists so that no loop can spin forever.
inline constexpr int max_rounds = 1000;

enum class Probe { absent, live, busy };

/// A persistent object whose creator has not finished: born with S_ISGID,
/// which the creator's final fchmod clears, and still empty.
inline bool is_unbuilt(const struct stat& st) noexcept
{
    return !is_scoped(st) && (st.st_mode & S_ISGID) != 0 && st.st_size == 0;
}

/// Whether the object's state is only read under its gate.
inline bool needs_gate(const struct stat& st) noexcept
{
    return is_scoped(st) || is_unbuilt(st);
}

/// Under the gate: is the object behind `fd` still linked and in use? A
/// scoped object with no holder, or an unbuilt one whose creator died, is
/// stale, and is unlinked here (best effort).
inline Probe check_under_gate(int fd, const std::string& os_name, struct stat& st)
{
    if (::fstat(fd, &st) != 0 || st.st_nlink == 0) {
        return Probe::absent;
    }
    if (is_scoped(st) ? held_by_others(fd) : !is_unbuilt(st)) {
        return Probe::live;
    }
    if (::shm_unlink(os_name.c_str()) != 0 && errno != ENOENT) {
        return Probe::busy; // stale, but another user's: we cannot reclaim it
    }
    FILEMAP_STEP("reclaim: stale object unlinked");
    return Probe::absent;
}

/// What a create finds behind an existing name: live, absent (removed or
/// reclaimed in the meantime), or busy (stale but not ours to reclaim).
inline Probe probe_existing(const std::string& os_name)
{
    Handle probe(::shm_open(os_name.c_str(), O_RDONLY | O_CLOEXEC, 0));
    if (!probe) {
        return errno == ENOENT ? Probe::absent : Probe::live;
    }
    struct stat st {};
    if (::fstat(probe.get(), &st) != 0 || !needs_gate(st)) {
        return Probe::live;
    }
    if (!lock_gate(probe.get())) {
        return Probe::live;
    }
    FILEMAP_STEP("probe: gate taken");
    const Probe found = check_under_gate(probe.get(), os_name, st);
    unlock_gate(probe.get());
    return found;
}

/// Creates a new named object of exactly `size` bytes; file_exists if a live
/// object has the name. A scoped object is returned holding its name.
inline Handle create_named(const Name& name, std::size_t size, const Options& options, Error& error)
{
    const bool scoped = options.lifetime == Lifetime::scoped;
    if (scoped && !scoped_supported) {
        error.set(std::errc::not_supported, "scoped lifetime needs OFD locks on this system");
        return {};
    }
    const std::string os_name = posix_name(name);
    const mode_t mode = mode_of(options.permissions) | (scoped ? S_ISVTX : 0);
    const mode_t unbuilt = scoped ? mode : mode | S_ISGID;
    for (int round = 0; round < max_rounds; ++round) {
        Handle handle(::shm_open(os_name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, unbuilt));
        if (!handle) {
            if (errno != EEXIST) {
                error.set_errno(errno);
                return {};
            }
            const Probe found = probe_existing(os_name);
            if (found == Probe::absent) {
                continue;
            }
            error.set(std::errc::file_exists, found == Probe::busy
                                                  ? "a stale object of another user holds the name"
                                                  : std::string());
            return {};
        }
        FILEMAP_STEP("create: object made");
        if (!lock_gate(handle.get())) {
            error.set_errno(errno, "flock");
            ::shm_unlink(os_name.c_str());
            return {};
        }
        auto ungate = gsl::finally([fd = handle.get()] { unlock_gate(fd); });
        struct stat st {};
        if (::fstat(handle.get(), &st) == 0 && st.st_nlink == 0) {
            continue; // an opener judged it stale before we locked: start over
        }
        FILEMAP_STEP("create: gate taken");
        // Until the name is ours to keep, a failure removes what we made.
        auto undo = gsl::finally([&] {
            if (error) {
                ::shm_unlink(os_name.c_str());
            }
        });
        if (scoped && !handle.become_holder(os_name)) {
            error.set_errno(errno, "taking the holder lock");
            return {};
        }
        FILEMAP_STEP("create: holder taken");
        if (!size_object(handle.get(), size, options.reserve, error)) {
            return {};
        }
        FILEMAP_STEP("create: sized");
        // Exactly the asked mode (shm_open's was narrowed by the umask); for
        // a persistent object this also clears the unbuilt mark.
        if (::fchmod(handle.get(), mode) != 0) {
            error.set_errno(errno, "fchmod");
            return {};
        }
        FILEMAP_STEP("create: built");
        return handle;
    }
    error.set(std::errc::resource_unavailable_try_again, "the name kept changing hands");
    return {};
}

/// Opens an existing named object; never creates. A scoped object is
/// returned holding its name; a stale one is reclaimed and reported absent.
inline Handle open_named(const Name& name, Access access, Error& error)
{
    const std::string os_name = posix_name(name);
    for (int round = 0; round < max_rounds; ++round) {
        Handle handle(::shm_open(os_name.c_str(), open_flags(access) | O_CLOEXEC, 0));
        if (!handle) {
            error.set_errno(errno);
            return {};
        }
        FILEMAP_STEP("open: object opened");
        struct stat st {};
        if (::fstat(handle.get(), &st) != 0) {
            error.set_errno(errno, "fstat");
            return {};
        }
        if (needs_gate(st)) {
            if (!lock_gate(handle.get())) {
                error.set_errno(errno, "flock");
                return {};
            }
            auto ungate = gsl::finally([fd = handle.get()] { unlock_gate(fd); });
            FILEMAP_STEP("open: gate taken");
            if (check_under_gate(handle.get(), os_name, st) != Probe::live) {
                error.set(std::errc::no_such_file_or_directory,
                          is_scoped(st) ? "the object was released by its last holder"
                                        : "its creator died before giving it a size");
                return {};
            }
            if (is_scoped(st) && !handle.become_holder(os_name)) {
                error.set_errno(errno, "taking the holder lock");
                return {};
            }
            FILEMAP_STEP("open: holder taken");
        }
        if (st.st_size > 0) {
            return handle;
        }
        // A persistent object between its creator's shm_open and ftruncate
        // (one system call): give the creator a moment, then report it.
        if (round > 50) {
            error.set(std::errc::invalid_argument, "the object is empty (0 bytes)");
            return {};
        }
        ::sched_yield();
        ::usleep(200);
    }
    error.set(std::errc::resource_unavailable_try_again, "the name kept changing hands");
    return {};
}

/// The size of the object behind `handle`, as its creator asked.
inline std::size_t object_size(const Handle& handle, Error& error)
{
    struct stat st {};
    if (::fstat(handle.get(), &st) != 0) {
        error.set_errno(errno, "fstat");
        return 0;
    }
    if (static_cast<std::uintmax_t>(st.st_size) > std::numeric_limits<std::size_t>::max()) {
        error.set(std::errc::not_enough_memory, "the object is larger than the address space");
        return 0;
    }
    return static_cast<std::size_t>(st.st_size);
}

/// True if the object belongs to another user and lets others in: a name a
/// squatter made in world-writable /dev/shm to read what we would write.
inline bool exposed_to_others(const Handle& handle) noexcept
{
    struct stat st {};
    return ::fstat(handle.get(), &st) == 0 && st.st_uid != ::geteuid() &&
           (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
}

/// A second handle that keeps the same object (and, for a scoped object, its
/// name) alive on its own: for a View that outlives its FileMapping. A
/// scoped holder needs its own open file description, since dup() would
/// share the first one's lock; /proc/self/fd opens one.
inline Handle duplicate_handle(const Handle& handle, Error& error)
{
    if (!handle.holds().empty()) {
        const int flags = ::fcntl(handle.get(), F_GETFL) & O_ACCMODE;
        const std::string self = "/proc/self/fd/" + std::to_string(handle.get());
        Handle copy(retry_eintr([&] { return ::open(self.c_str(), flags | O_CLOEXEC); }));
        if (!copy || !copy.become_holder(handle.holds())) {
            error.set_errno(errno, "reopening the object");
            return {};
        }
        return copy;
    }
    Handle copy(::fcntl(handle.get(), F_DUPFD_CLOEXEC, 0));
    if (!copy) {
        error.set_errno(errno, "dup");
    }
    return copy;
}

/// Opens the object if it exists, else creates it; `created` says which.
inline Handle open_or_create_named(const Name& name, std::size_t size, const Options& options,
                                   bool& created, Error& error)
{
    for (int round = 0; round < max_rounds; ++round) {
        error.clear();
        Handle handle = create_named(name, size, options, error);
        // file_exists with a detail is final: a stale object we cannot reclaim.
        if (error.code() != std::errc::file_exists || !error.detail().empty()) {
            created = !error;
            return handle;
        }
        error.clear();
        handle = open_named(name, options.access, error);
        if (error.code() != std::errc::no_such_file_or_directory) {
            created = false;
            return handle;
        }
    }
    error.set(std::errc::resource_unavailable_try_again, "the name kept changing hands");
    return {};
}

/// Unlinks the name; false if there was none. Holders keep their memory.
inline bool remove_named(const Name& name, Error& error)
{
    if (::shm_unlink(posix_name(name).c_str()) == 0) {
        return true;
    }
    if (errno != ENOENT) {
        error.set_errno(errno);
    }
    return false;
}

/// Unnamed shared memory of `size` bytes, reserved, close-on-exec.
inline Handle create_anonymous(std::size_t size, Error& error)
{
#if defined(__linux__)
    Handle handle(::memfd_create("filemap", MFD_CLOEXEC));
#else
    // No memfd: a uniquely named object, unlinked at once.
    static std::atomic<unsigned> counter{0};
    const std::string os_name =
        "/filemap-anon-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
    Handle handle(
        ::shm_open(os_name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR));
    if (handle) {
        ::shm_unlink(os_name.c_str());
    }
#endif
    if (!handle) {
        error.set_errno(errno);
        return {};
    }
    if (!size_object(handle.get(), size, true, error)) {
        return {};
    }
    return handle;
}

inline void set_inheritable(const Handle& handle, bool inheritable, Error& error)
{
    const int flags = ::fcntl(handle.get(), F_GETFD);
    const int wanted = inheritable ? (flags & ~FD_CLOEXEC) : (flags | FD_CLOEXEC);
    if (flags == -1 || ::fcntl(handle.get(), F_SETFD, wanted) == -1) {
        error.set_errno(errno);
    }
}

/// Checks that `fd` is an open descriptor of something mappable.
inline void check_native(native_handle_type fd, Error& error)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        error.set_errno(errno);
    } else if (!S_ISREG(st.st_mode)) {
        error.set(std::errc::invalid_argument, "the descriptor is not a file or shared memory");
    }
}

/// Opens the file at `path` for a mapping of `size` bytes (0: the whole
/// file), growing it for read_write; `size` is set to the size to map.
inline Handle open_file(const std::filesystem::path& path, Access access, std::size_t& size,
                        Error& error)
{
    Handle handle(
        retry_eintr([&] { return ::open(path.c_str(), open_flags(access) | O_CLOEXEC); }));
    if (!handle) {
        error.set_errno(errno);
        return {};
    }
    struct stat st {};
    if (::fstat(handle.get(), &st) != 0) {
        error.set_errno(errno, "fstat");
        return {};
    }
    if (!S_ISREG(st.st_mode)) {
        error.set(std::errc::invalid_argument, "not a regular file");
        return {};
    }
    const auto file_size = static_cast<std::uintmax_t>(st.st_size);
    if (size == 0) {
        if (file_size == 0) {
            error.set(std::errc::invalid_argument, "the file is empty; give a size to grow it");
            return {};
        }
        if (file_size > std::numeric_limits<std::size_t>::max()) {
            error.set(std::errc::not_enough_memory, "the file is larger than the address space");
            return {};
        }
        size = static_cast<std::size_t>(file_size);
    } else if (size > file_size) {
        if (access != Access::read_write) {
            error.set(std::errc::result_out_of_range,
                      "the file is " + std::to_string(file_size) + " bytes, asked for " +
                          std::to_string(size) + " without write access to grow it");
            return {};
        }
        if (!size_object(handle.get(), size, true, error)) {
            return {};
        }
    }
    return handle;
}

} // namespace filemap::detail
