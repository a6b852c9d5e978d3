// filemap/detail/posix/scoped_name.hpp - the POSIX naming protocol: objects that appear whole,
// and Windows lifetimes on shm_open.
//
// POSIX names live until shm_unlink; Windows names die with their last
// handle. This file gives named objects the Windows behaviour (the scoped
// lifetime), crash-safe, and makes every named object - scoped or
// persistent, a FileMapping or the block of a NamedMutex or Channel - appear
// at its name fully built or not at all. It is the only code that creates,
// opens, reclaims or unlinks a named object on POSIX.
#pragma once

#include <filemap/detail/port.hpp>
#include <filemap/detail/posix/growth.hpp>
#include <filemap/detail/posix/system.hpp>
#include <filemap/detail/steps.hpp>
#include <filemap/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace filemap::detail::posix {

/* ---------------------------------------------------------------------------
 * Who is untrusted here (DESIGN.md, "The shared boundary"): any local user
 * may put anything at any free name in /dev/shm (a FIFO, a directory, a
 * symlink, an object of its own whose mode it changes at will), take any
 * lock its access allows, and any process may die between any two calls.
 *
 * Creation is atomic. A new object is made unnamed (O_TMPFILE in /dev/shm),
 * sized, given its exact mode and, if scoped, its holder lock; a
 * NamedMutex or Channel block is built in it; only then is it linked to its
 * name (linkat through /proc/self/fd, which fails if the name is taken). So
 * no process ever sees a half-built object, and a creator that dies leaves
 * nothing at the name, scoped or persistent. Where O_TMPFILE or /proc is
 * missing, the object is built under a private temporary name and renamed
 * into place with RENAME_NOREPLACE: just as atomic, but a creator killed
 * mid-way leaves a "/dev/shm/.filemap-*" entry behind.
 *
 * Scoped lifetime: scoped objects carry the sticky bit (S_ISVTX) from birth;
 * objects without it (persistent, or made by Python, Boost, a shell) are
 * never unlinked by a close or judged stale. Every scoped handle holds an
 * OFD read lock on byte 0, which the kernel drops when its process dies.
 *  - "Am I the last holder?" is the atomic upgrade of one's own read lock to
 *    a write lock (F_OFD_SETLK): it fails while any other descriptor holds a
 *    read lock. A write lock needs a descriptor open for writing, so a user
 *    who can only read can never hold one against us (flock, which v1 used
 *    as a gate, any reader could take exclusively, wedging every close).
 *  - close: upgrade; if alone, unlink the name only if it still refers to our
 *    object (same device and inode: the entry may have been renamed and the
 *    name reused); release. If not alone, just release. A holder that cannot
 *    write cannot decide, and leaves a name it may have been last to hold for
 *    the next create or open to reclaim. close never waits.
 *  - open: read lock (failing only while a closer or reclaimer holds the
 *    write lock for a few system calls: retried for at most `decide_wait`,
 *    then timed_out); then st_nlink == 0 means a closer just unlinked it:
 *    start over; then, if the upgrade succeeds, nobody else holds it: it is
 *    stale, so unlink it (same-inode check) and report the name absent.
 *  - create, when the name is taken: the same staleness test on the existing
 *    object, opened with whatever access the caller has (read-write,
 *    write-only, or - for an owner who gave itself no access - after
 *    restoring owner access to its own stale object); a stale object is
 *    unlinked and the link tried again, a live one is file_exists, and one
 *    only its (other) owner may remove is permission_denied.
 *
 * Pitfalls this code avoids: a mapping keeps the open file description
 * alive, so locks are released explicitly rather than by close(); a forked
 * child shares the description (and its locks), so a holder remembers its
 * process and does not run the protocol from a fork; root ignores permission
 * bits, so exclusion never relies on them.
 * ------------------------------------------------------------------------ */

/// What a scoped handle keeps alive: the shm name, which object it is (so a
/// reused name is never unlinked), whether its descriptor may take a write
/// lock, and the process that took the hold (a forked copy must not run the
/// close protocol).
struct Holder {
    std::string os_name; ///< empty: this handle holds no name (yet)
    dev_t device = 0;
    ino_t inode = 0;
    bool writable = false; ///< the descriptor is open for writing
    pid_t process = 0;
    unsigned forks = 0;    ///< current_forks() when the hold was taken
    bool scoped = false;   ///< its handle holds the name once it is published
    std::string temporary; ///< without O_TMPFILE: the private name until published
};

/// A bounded number of rounds for races with other processes; each round
/// repeats only after another process changed the name, so it is never
/// reached in practice and exists so that no loop can spin for ever.
inline constexpr int max_rounds = 1000;

/// How long an opener waits for a closer or reclaimer that holds an
/// object's write lock (a few system calls, or a hostile peer with write
/// access that keeps it): the documented bound.
inline constexpr std::chrono::milliseconds decide_wait{100};

inline std::string posix_name(const Name& name)
{
    return "/" + std::string(name.base);
}

inline std::string shm_path(const std::string& os_name)
{
    return "/dev/shm" + os_name;
}

inline bool is_scoped(const struct stat& st) noexcept
{
    return (st.st_mode & S_ISVTX) != 0;
}

inline bool is_writable(int flags) noexcept
{
    return (flags & O_ACCMODE) != O_RDONLY;
}

/// shm_open that never blocks (a FIFO at the name) and refuses what is not
/// a regular file (glibc's shm_open already refuses to follow a symlink).
inline Descriptor open_existing(const std::string& os_name, int flags, struct stat& st,
                                Error& error)
{
    Descriptor fd(::shm_open(os_name.c_str(), flags | O_NONBLOCK | O_CLOEXEC, 0));
    if (!fd) {
        if (errno == ELOOP || errno == EISDIR || errno == ENXIO) {
            error.set(std::errc::invalid_argument,
                      errno == ELOOP    ? "not a shared memory object (a symbolic link)"
                      : errno == EISDIR ? "not a shared memory object (a directory)"
                                        : "not a shared memory object");
        } else {
            error.set_errno(errno);
        }
        return {};
    }
    if (!stat_of(fd.get(), st, error)) {
        return {};
    }
    if (!S_ISREG(st.st_mode)) {
        error.set(std::errc::invalid_argument, "not a shared memory object");
        return {};
    }
    return fd;
}

/// Takes an OFD lock of `type`, retrying for at most decide_wait while
/// another descriptor holds a conflicting one.
inline bool lock_within_bound(int fd, short type)
{
    const auto until = std::chrono::steady_clock::now() + decide_wait;
    while (!set_byte_lock(fd, type)) {
        if ((errno != EAGAIN && errno != EACCES) || std::chrono::steady_clock::now() >= until) {
            return false;
        }
        ::sched_yield();
    }
    return true;
}

/// Takes the write lock if no other descriptor holds the object: at once
/// false while holders hold read locks (it is live); retried for at most
/// decide_wait while another descriptor holds the write lock (a closer or
/// reclaimer deciding, for a few system calls).
inline bool lock_alone_within_bound(int fd)
{
    const auto until = std::chrono::steady_clock::now() + decide_wait;
    while (!set_byte_lock(fd, F_WRLCK)) {
        if ((errno != EAGAIN && errno != EACCES) || byte_lock_of_others(fd) == F_RDLCK ||
            std::chrono::steady_clock::now() >= until) {
            return false;
        }
        ::sched_yield();
    }
    return true;
}

/// Unlinks `os_name` only if it still names the object (`device`, `inode`):
/// 0 once unlinked, ENOENT if the name is gone or names another object, or
/// why the unlink failed (EPERM: another user's, in sticky /dev/shm).
inline int unlink_if_ours(const std::string& os_name, dev_t device, ino_t inode) noexcept
{
    struct stat named {};
    if (::fstatat(AT_FDCWD, shm_path(os_name).c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 ||
        named.st_dev != device || named.st_ino != inode) {
        return ENOENT;
    }
    return ::shm_unlink(os_name.c_str()) == 0 ? 0 : errno;
}

/// Tries to become the only holder, without waiting: the upgrade of `fd`'s
/// read lock to a write lock. A read-only descriptor cannot take a write
/// lock, so the object is opened again for writing where our permissions
/// allow (`reopened`), `fd`'s read lock given up and the write lock taken
/// there: no holder is ever missed, since any other one's read lock still
/// makes it fail. Returns the descriptor holding the write lock, or -1 (not
/// alone, or not allowed to write: then `fd` may have lost its read lock).
inline int become_alone(int fd, bool writable, Descriptor& reopened) noexcept
{
    if (writable) {
        return set_byte_lock(fd, F_WRLCK) ? fd : -1;
    }
    if (byte_locked_by_others(fd)) {
        return -1; // a look first: reopening costs two system calls
    }
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    reopened = Descriptor(::open(self.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!reopened) {
        return -1;
    }
    set_byte_lock(fd, F_UNLCK);
    return set_byte_lock(reopened.get(), F_WRLCK) ? reopened.get() : -1;
}

/// Takes the holder lock: from now on `fd` keeps `os_name` alive.
inline bool take_hold(int fd, int flags, const std::string& os_name, const struct stat& st,
                      Holder& holder)
{
    if (!lock_within_bound(fd, F_RDLCK)) {
        return false;
    }
    holder = {};
    holder.os_name = os_name;
    holder.device = st.st_dev;
    holder.inode = st.st_ino;
    holder.writable = is_writable(flags);
    holder.process = current_process();
    holder.forks = current_forks();
    holder.scoped = true;
    return true;
}

/// The close protocol: the last holder of a scoped name removes it. Unmap
/// every view of `fd` first (a mapping would keep the locks alive). Never waits.
inline void release_hold(int fd, Holder& holder) noexcept
{
    // A copy inherited through fork() shares our locks: only the process
    // that took them runs the protocol, or a child's exit would unlink a
    // name its parent still holds.
    if (!holder.os_name.empty() && holder.process == current_process()) {
        Descriptor reopened;
        if (become_alone(fd, holder.writable, reopened) >= 0) {
            FILEMAP_STEP(close_alone);
            unlink_if_ours(holder.os_name, holder.device, holder.inode);
            FILEMAP_STEP(close_unlinked);
        }
        // Closing the descriptor releases its locks, unless a fork since the
        // hold shares its open file description: then only an unlock does.
        if (holder.forks != current_forks()) {
            set_byte_lock(fd, F_UNLCK);
        }
        FILEMAP_STEP(close_holder_released);
    }
    if (!holder.temporary.empty() && holder.process == current_process()) {
        ::shm_unlink(holder.temporary.c_str()); // built, never published
    }
    holder = {};
}

/// Whether O_TMPFILE and /proc/self/fd work here; learned at the first create.
inline std::atomic<int> unnamed_creation{-1};

/// Whether linkat(AT_EMPTY_PATH) works for this process (it needs
/// CAP_DAC_READ_SEARCH): 3 to 4 us cheaper than a path through /proc.
inline std::atomic<int> link_by_descriptor{-1};

/// Links the unnamed object `fd` at `target`: 0, or -1 with errno.
inline int link_unnamed(int fd, const std::string& target) noexcept
{
    if (link_by_descriptor.load(std::memory_order_relaxed) != 0) {
        if (::linkat(fd, "", AT_FDCWD, target.c_str(), AT_EMPTY_PATH) == 0) {
            link_by_descriptor.store(1, std::memory_order_relaxed);
            return 0;
        }
        if (errno != ENOENT && errno != EPERM && errno != EINVAL) {
            return -1;
        }
        link_by_descriptor.store(0, std::memory_order_relaxed);
    }
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    return ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW);
}

/// A new, unnamed object (or, without O_TMPFILE, one under a private
/// temporary name, recorded in `holder`): sized, with exactly its mode and,
/// if scoped, held.
inline Descriptor create_unlinked(const NewObject& object, Holder& holder, Error& error)
{
    const bool scoped = object.lifetime == Lifetime::scoped;
    const mode_t mode = mode_of(object.permissions) | (scoped ? S_ISVTX : 0);
    Descriptor fd;
    if (unnamed_creation.load(std::memory_order_relaxed) != 0) {
        fd = Descriptor(::open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, mode));
        const bool works =
            fd || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOENT);
        if (!works || unnamed_creation.load(std::memory_order_relaxed) < 0) {
            unnamed_creation.store(works && ::access("/proc/self/fd", X_OK) == 0 ? 1 : 0,
                                   std::memory_order_relaxed);
        }
        if (!fd && works) {
            error.set_errno(errno);
            return {};
        }
        if (unnamed_creation.load(std::memory_order_relaxed) == 0) {
            fd.close(); // no /proc to link it through
        }
    }
    holder.process = current_process();
    holder.forks = current_forks();
    if (!fd) {
        static std::atomic<unsigned> counter{0};
        for (int round = 0; !fd && round < max_rounds; ++round) {
            holder.temporary = "/.filemap-" + std::to_string(current_process()) + "-" +
                               std::to_string(counter.fetch_add(1));
            fd = Descriptor(
                ::shm_open(holder.temporary.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode));
            if (!fd && errno != EEXIST) {
                error.set_errno(errno);
                holder = {};
                return {};
            }
        }
    }
    FILEMAP_STEP(create_object_made);
    // Exactly the mode asked for: open() narrowed it by the umask, which
    // only the fstat we need anyway can tell (a process may change it).
    struct stat st {};
    if (!resize(fd.get(), object.size, object.reserve, error) || !stat_of(fd.get(), st, error) ||
        ((st.st_mode & 07777) != mode && ::fchmod(fd.get(), mode) != 0)) {
        if (!error) {
            error.set_errno(errno, "fchmod");
        }
        release_hold(fd.get(), holder);
        return {};
    }
    if (object.max_size != 0) {
        record_max_size(fd.get(), object.max_size, error);
        if (error) {
            release_hold(fd.get(), holder);
            return {};
        }
    }
    FILEMAP_STEP(create_sized);
    if (scoped && !set_byte_lock(fd.get(), F_RDLCK)) {
        error.set_errno(errno, "taking the holder lock");
        release_hold(fd.get(), holder);
        return {};
    }
    holder.device = st.st_dev;
    holder.inode = st.st_ino;
    holder.writable = true;
    holder.scoped = scoped; // a persistent object is held by nobody
    return fd;
}

enum class Found { absent, live, not_ours };

/// Opens the object at `os_name` to test it, with write access where the
/// caller has it (only a writable descriptor can decide that it is stale).
/// An owner who gave itself less than read-write on its own scoped object
/// gets it back for the open, and the mode is restored at once.
inline Descriptor open_to_test(const std::string& os_name, struct stat& st, Error& error)
{
    Descriptor fd = open_existing(os_name, O_RDWR, st, error);
    if (fd || !error.is(std::errc::permission_denied)) {
        return fd;
    }
    struct stat named {};
    const std::string path = shm_path(os_name);
    if (::fstatat(AT_FDCWD, path.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(named.st_mode) && is_scoped(named) && named.st_uid == ::geteuid() &&
        ::fchmodat(AT_FDCWD, path.c_str(), (named.st_mode & 07777) | S_IRUSR | S_IWUSR, 0) == 0) {
        error.clear();
        fd = open_existing(os_name, O_RDWR, st, error);
        if (fd) {
            ::fchmod(fd.get(), named.st_mode & 07777);
        }
        return fd;
    }
    error.clear();
    return open_existing(os_name, O_RDONLY, st, error);
}

/// What create finds at a taken name: absent (removed or reclaimed as
/// stale meanwhile: link again), live, or stale but another user's.
inline Found test_existing(const std::string& os_name)
{
    struct stat st {};
    Error error;
    const Descriptor fd = open_to_test(os_name, st, error);
    if (!fd) {
        return error.is(std::errc::no_such_file_or_directory) ? Found::absent : Found::live;
    }
    if (!is_scoped(st)) {
        return Found::live;
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (!is_writable(flags)) {
        return byte_locked_by_others(fd.get()) ? Found::live : Found::not_ours;
    }
    if (!lock_alone_within_bound(fd.get())) {
        return Found::live; // held (or a peer kept its write lock past the bound)
    }
    FILEMAP_STEP(reclaim_locked);
    const int why = unlink_if_ours(os_name, st.st_dev, st.st_ino);
    set_byte_lock(fd.get(), F_UNLCK);
    if (why == EPERM || why == EACCES) {
        return Found::not_ours; // stale, but only its owner may remove it
    }
    FILEMAP_STEP(reclaim_unlinked);
    return Found::absent;
}

/// Links the built object behind `fd` to `os_name`; file_exists if a live
/// object has the name, permission_denied if a stale one that only its
/// owner may remove has it. A stale one is reclaimed and the link retried.
inline void publish(int fd, const std::string& os_name, Holder& holder, Error& error)
{
    const std::string temporary = holder.temporary;
    const std::string target = shm_path(os_name);
    for (int round = 0; round < max_rounds; ++round) {
        const int linked = temporary.empty()
                               ? link_unnamed(fd, target)
                               : ::renameat2(AT_FDCWD, shm_path(temporary).c_str(), AT_FDCWD,
                                             target.c_str(), RENAME_NOREPLACE);
        if (linked == 0) {
            FILEMAP_STEP(create_linked);
            holder.temporary.clear();
            if (holder.scoped) {
                holder.os_name = os_name; // from now on our close may end the name
            }
            return;
        }
        if (errno != EEXIST) {
            error.set_errno(errno, "linking the object to its name");
            return;
        }
        switch (test_existing(os_name)) {
        case Found::absent: continue;
        case Found::live: error.set(std::errc::file_exists); return;
        case Found::not_ours:
            error.set(std::errc::permission_denied,
                      "a stale object of another user holds the name; only its owner can "
                      "remove it");
            return;
        }
    }
    error.set(std::errc::resource_unavailable_try_again, "the name kept changing hands");
}

/// Opens the existing object; never creates. A scoped object comes back
/// held; a stale one is reclaimed and reported absent.
inline Descriptor open_object(const std::string& os_name, Access access, Holder& holder,
                              std::uint64_t& size, Error& error)
{
    const int flags = access == Access::read_write ? O_RDWR : O_RDONLY;
    for (int round = 0; round < max_rounds; ++round) {
        struct stat st {};
        Descriptor fd = open_existing(os_name, flags, st, error);
        if (!fd) {
            return {};
        }
        FILEMAP_STEP(open_object_opened);
        if (is_scoped(st)) {
            if (!take_hold(fd.get(), flags, os_name, st, holder)) {
                error.set(std::errc::timed_out,
                          "another process kept the object's lifetime lock for " +
                              std::to_string(decide_wait.count()) + " ms");
                return {};
            }
            if (!stat_of(fd.get(), st, error)) {
                return {};
            }
            if (st.st_nlink == 0) {
                holder = {};
                continue; // its last holder unlinked it meanwhile: look again
            }
            FILEMAP_STEP(open_holder_taken);
            // Alone with it: its holders all died, so it is stale.
            Descriptor reopened;
            if (become_alone(fd.get(), holder.writable, reopened) >= 0) {
                unlink_if_ours(os_name, st.st_dev, st.st_ino);
                FILEMAP_STEP(reclaim_unlinked);
                holder = {};
                error.set(std::errc::no_such_file_or_directory,
                          "the object was released by its last holder");
                return {};
            }
            if (reopened) {
                holder = {};
                continue; // gave up its read lock to test, and someone came: look again
            }
            if (!holder.writable && !byte_locked_by_others(fd.get())) {
                holder = {}; // stale, and we may not write to remove it: leave it to one who can
                error.set(std::errc::no_such_file_or_directory,
                          "the object was released by its last holder");
                return {};
            }
        }
        if (st.st_size == 0) {
            holder = {};
            error.set(std::errc::invalid_argument, "the object is empty (0 bytes)");
            return {};
        }
        size = static_cast<std::uint64_t>(st.st_size);
        return fd;
    }
    error.set(std::errc::resource_unavailable_try_again, "the name kept changing hands");
    return {};
}

} // namespace filemap::detail::posix
