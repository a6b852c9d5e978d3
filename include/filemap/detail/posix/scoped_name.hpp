// filemap/detail/posix/scoped_name.hpp - the POSIX naming protocol: Windows lifetimes on shm_open.
//
// POSIX names live until shm_unlink; Windows names die with their last
// handle. This file gives named objects the Windows behaviour (the scoped
// lifetime), crash-safe, and makes the creation of persistent objects just as
// crash-safe. It is the only code that creates, opens, reclaims or unlinks a
// named object on POSIX; the reasoning is below, next to the code it explains.
#pragma once

#include <filemap/detail/port.hpp>
#include <filemap/detail/posix/system.hpp>
#include <filemap/detail/steps.hpp>
#include <filemap/error.hpp>

#include <gsl/util>

#include <string>

#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace filemap::detail::posix {

/* ---------------------------------------------------------------------------
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
 * shares the description (and its locks), so a holder remembers its process
 * and does not run the protocol from a fork; root ignores permission bits, so
 * exclusion never relies on them; in sticky /dev/shm only the owner can
 * unlink, so another user's last close leaves the name for the next
 * create/open to reclaim.
 * ------------------------------------------------------------------------ */

/// What a scoped handle keeps alive: the shm name, and the process that took
/// the hold (a forked copy must not run the close protocol as its parent).
struct Holder {
    std::string os_name; ///< empty: this handle holds no name
    pid_t process = 0;
};

/// A bounded number of rounds for create/open races; each round only repeats
/// when another process changed the name in between, so it is never reached
/// in practice and exists so that no loop can spin for ever.
inline constexpr int max_rounds = 1000;

inline std::string posix_name(const Name& name)
{
    return "/" + std::string(name.base);
}

inline bool is_scoped(const struct stat& st) noexcept
{
    return (st.st_mode & S_ISVTX) != 0;
}

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

/// Takes the holder lock: from now on `fd` keeps `os_name` alive.
inline bool take_hold(int fd, const std::string& os_name, Holder& holder)
{
    if (!set_byte_lock(fd, F_RDLCK)) {
        return false;
    }
    holder = {os_name, ::getpid()};
    return true;
}

/// The close protocol: the last holder of a scoped name removes it. Unmap
/// every view of `fd` first (a mapping would keep the locks alive).
inline void release_hold(int fd, Holder& holder) noexcept
{
    // A copy inherited through fork() shares our locks: only the process
    // that took them runs the protocol, or a child's exit would unlink a
    // name its parent still holds.
    if (!holder.os_name.empty() && holder.process == ::getpid() && lock_exclusive(fd)) {
        FILEMAP_STEP(close_gate_taken);
        struct stat st {};
        if (::fstat(fd, &st) == 0 && st.st_nlink > 0 && !byte_locked_by_others(fd)) {
            ::shm_unlink(holder.os_name.c_str()); // may fail for another user's: reclaimed later
            FILEMAP_STEP(close_unlinked);
        }
        set_byte_lock(fd, F_UNLCK);
        FILEMAP_STEP(close_holder_released);
        unlock_exclusive(fd);
    }
    holder = {};
}

enum class Probe { absent, live, busy };

/// Under the gate: is the object behind `fd` still linked and in use? A
/// scoped object with no holder, or an unbuilt one whose creator died, is
/// stale, and is unlinked here (best effort).
inline Probe check_under_gate(int fd, const std::string& os_name, struct stat& st)
{
    if (::fstat(fd, &st) != 0 || st.st_nlink == 0) {
        return Probe::absent;
    }
    if (is_scoped(st) ? byte_locked_by_others(fd) : !is_unbuilt(st)) {
        return Probe::live;
    }
    if (::shm_unlink(os_name.c_str()) != 0 && errno != ENOENT) {
        return Probe::busy; // stale, but another user's: we cannot reclaim it
    }
    FILEMAP_STEP(reclaim_unlinked);
    return Probe::absent;
}

/// What a create finds behind an existing name: live, absent (removed or
/// reclaimed in the meantime), or busy (stale but not ours to reclaim).
inline Probe probe_existing(const std::string& os_name)
{
    const Descriptor probe(::shm_open(os_name.c_str(), O_RDONLY | O_CLOEXEC, 0));
    if (!probe) {
        return errno == ENOENT ? Probe::absent : Probe::live;
    }
    struct stat st {};
    if (::fstat(probe.get(), &st) != 0 || !needs_gate(st) || !lock_exclusive(probe.get())) {
        return Probe::live;
    }
    FILEMAP_STEP(probe_gate_taken);
    const Probe found = check_under_gate(probe.get(), os_name, st);
    unlock_exclusive(probe.get());
    return found;
}

/// Creates the object; file_exists if a live object has the name. A scoped
/// object comes back held (`holder` set).
inline Descriptor create_object(const std::string& os_name, const NewObject& object, Holder& holder,
                                Error& error)
{
    const bool scoped = object.lifetime == Lifetime::scoped;
    const mode_t mode = mode_of(object.permissions) | (scoped ? S_ISVTX : 0);
    const mode_t unbuilt = scoped ? mode : mode | S_ISGID;
    for (int round = 0; round < max_rounds; ++round) {
        Descriptor fd(::shm_open(os_name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, unbuilt));
        if (!fd) {
            if (errno != EEXIST) {
                error.set_errno(errno);
                return {};
            }
            const Probe found = probe_existing(os_name);
            if (found == Probe::absent) {
                continue;
            }
            if (found == Probe::busy) {
                error.set(std::errc::permission_denied,
                          "a stale object of another user holds the name; only its owner can "
                          "remove it");
            } else {
                error.set(std::errc::file_exists);
            }
            return {};
        }
        FILEMAP_STEP(create_object_made);
        if (!lock_exclusive(fd.get())) {
            error.set_errno(errno, "flock");
            ::shm_unlink(os_name.c_str());
            return {};
        }
        auto ungate = gsl::finally([gated = fd.get()] { unlock_exclusive(gated); });
        struct stat st {};
        if (::fstat(fd.get(), &st) == 0 && st.st_nlink == 0) {
            continue; // an opener judged it stale before we locked: start over
        }
        FILEMAP_STEP(create_gate_taken);
        // Until the name is ours to keep, a failure removes what we made.
        auto undo = gsl::finally([&] {
            if (error) {
                ::shm_unlink(os_name.c_str());
                holder = {};
            }
        });
        if (scoped && !take_hold(fd.get(), os_name, holder)) {
            error.set_errno(errno, "taking the holder lock");
            return {};
        }
        FILEMAP_STEP(create_holder_taken);
        if (!resize(fd.get(), object.size, object.reserve, error)) {
            return {};
        }
        FILEMAP_STEP(create_sized);
        // Exactly the asked mode (shm_open's was narrowed by the umask); for
        // a persistent object this also clears the unbuilt mark.
        if (::fchmod(fd.get(), mode) != 0) {
            error.set_errno(errno, "fchmod");
            return {};
        }
        FILEMAP_STEP(create_built);
        return fd;
    }
    error.set(std::errc::resource_unavailable_try_again, "the name kept changing hands");
    return {};
}

/// Opens the existing object; never creates. A scoped object comes back
/// held; a stale one is reclaimed and reported absent.
inline Descriptor open_object(const std::string& os_name, Access access, Holder& holder,
                              Error& error)
{
    for (int round = 0; round < max_rounds; ++round) {
        Descriptor fd(::shm_open(os_name.c_str(), open_flags(access) | O_CLOEXEC, 0));
        if (!fd) {
            error.set_errno(errno);
            return {};
        }
        FILEMAP_STEP(open_object_opened);
        struct stat st {};
        if (!stat_of(fd.get(), st, error)) {
            return {};
        }
        if (needs_gate(st)) {
            if (!lock_exclusive(fd.get())) {
                error.set_errno(errno, "flock");
                return {};
            }
            auto ungate = gsl::finally([gated = fd.get()] { unlock_exclusive(gated); });
            FILEMAP_STEP(open_gate_taken);
            if (check_under_gate(fd.get(), os_name, st) != Probe::live) {
                error.set(std::errc::no_such_file_or_directory,
                          is_scoped(st) ? "the object was released by its last holder"
                                        : "its creator died before giving it a size");
                return {};
            }
            if (is_scoped(st) && !take_hold(fd.get(), os_name, holder)) {
                error.set_errno(errno, "taking the holder lock");
                return {};
            }
            FILEMAP_STEP(open_holder_taken);
        }
        if (st.st_size > 0) {
            return fd;
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

} // namespace filemap::detail::posix
