// filemap/detail/posix/liveness.hpp - naming a thread in shared memory, and telling whether it
// still lives.
//
// A lock in shared memory records its holder as a ThreadMark: the thread's
// id and its start time, in 64 fixed-width bits that mean the same in 32-
// and 64-bit processes, beside the holder's PID namespace (thread ids are
// per namespace: a waiter never judges a holder of another one, such as a
// container sharing /dev/shm). Nothing in a mark is a pointer. A waiter that finds
// the holder gone takes the lock over; "gone" must never be said of a live
// thread, or two would hold the lock, so only a certain answer counts:
//  - the kernel has no such thread (tkill(tid, 0) fails with ESRCH);
//  - it is a zombie (a killed process not yet reaped, or a thread-group
//    leader that exited before its process did);
//  - it started at another time than the mark says (its id was reused).
// Anything else - no /proc, a /proc that hides other users' processes, an
// unreadable entry - counts as alive.
//
// Start times are read as /proc/<tid>/stat, through a descriptor of /proc
// and a relative path, by the thread itself and by whoever checks it, so
// both read the same file: an emulator such as qemu-user answers
// "/proc/self/stat" and "/proc/<own pid>/stat" with values of its own,
// which a peer reading the real file would take for a reused id.
#pragma once

#include <filemap/detail/posix/system.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace filemap::detail::posix {

/// A thread as shared memory names it: its id in the low 32 bits, the low
/// 32 bits of its start time (clock ticks since boot) in the high ones; 0
/// for none. A start of 0 means unknown (no /proc): then only the id counts.
using ThreadMark = std::uint64_t;

constexpr ThreadMark make_mark(std::uint32_t tid, std::uint32_t start) noexcept
{
    return std::uint64_t{start} << 32 | tid;
}
constexpr std::uint32_t mark_tid(ThreadMark mark) noexcept
{
    return static_cast<std::uint32_t>(mark);
}
constexpr std::uint32_t mark_start(ThreadMark mark) noexcept
{
    return static_cast<std::uint32_t>(mark >> 32);
}

/// What /proc/<tid>/stat says of a thread.
struct ThreadStat {
    char state = '?';        ///< 'R', 'S', ..., 'Z' (zombie), 'X' (dead)
    std::uint64_t start = 0; ///< clock ticks since boot
};

/// Reads /proc/<tid>/stat; nullopt if it cannot (no such entry, no /proc,
/// not allowed, not parsable).
inline std::optional<ThreadStat> thread_stat(std::uint32_t tid) noexcept
{
    const Descriptor proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc) {
        return std::nullopt;
    }
    char path[16];
    std::snprintf(path, sizeof path, "%u/stat", static_cast<unsigned>(tid));
    const Descriptor file(::openat(proc.get(), path, O_RDONLY | O_CLOEXEC));
    if (!file) {
        return std::nullopt;
    }
    char text[1024];
    const auto got = retry_eintr([&] { return ::read(file.get(), text, sizeof text); });
    if (got <= 0) {
        return std::nullopt;
    }
    // "tid (comm) S f4 f5 ... f22 ...": comm may hold ')' and spaces, so
    // the fields start after the last ')'. The state is field 3, the start
    // time field 22.
    const std::string_view line(text, static_cast<std::size_t>(got));
    const auto close = line.rfind(')');
    if (close == std::string_view::npos || close + 2 >= line.size()) {
        return std::nullopt;
    }
    std::string_view fields = line.substr(close + 2);
    ThreadStat stat;
    stat.state = fields.front();
    for (int field = 3; field < 22; ++field) {
        const auto space = fields.find(' ');
        if (space == std::string_view::npos) {
            return std::nullopt;
        }
        fields.remove_prefix(space + 1);
    }
    if (fields.empty() || fields.front() < '0' || fields.front() > '9') {
        return std::nullopt;
    }
    for (const char c : fields) {
        if (c < '0' || c > '9') {
            break;
        }
        stat.start = stat.start * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return stat;
}

/// The PID namespace of the calling process: the low 32 bits of the inode
/// of /proc/self/ns/pid (read relative to /proc, as start times are); 0 if
/// unknown. Thread ids mean something only inside one namespace.
inline std::uint32_t pid_namespace_of_self() noexcept
{
    const Descriptor proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st {};
    if (!proc || ::fstatat(proc.get(), "self/ns/pid", &st, 0) != 0) {
        return 0;
    }
    return static_cast<std::uint32_t>(st.st_ino);
}

/// Who the calling thread is, as a lock records it.
struct ThisThread {
    ThreadMark mark = 0;             ///< its id and start time
    std::uint32_t pid_namespace = 0; ///< where that id means it
    unsigned forks = 0;              ///< fork_count when computed
};

/// The calling thread's identity, computed once per thread (and again in a
/// forked child, whose thread has a new id and maybe a new namespace).
inline const ThisThread& this_thread() noexcept
{
    thread_local ThisThread cache;
    // A filled cache means current_forks() ran: fork_count is being kept.
    if (cache.mark != 0 && cache.forks == fork_count.load(std::memory_order_relaxed)) {
        return cache;
    }
    const unsigned forks = current_forks();
    const auto tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
    const auto stat = thread_stat(tid);
    cache.mark = make_mark(tid, stat ? static_cast<std::uint32_t>(stat->start) : 0);
    cache.pid_namespace = pid_namespace_of_self();
    cache.forks = forks;
    return cache;
}

/// True only if thread `tid`, of PID namespace `pid_namespace`, is
/// certainly gone; `mark`, when it names the same id, adds its start time to
/// the check. A thread of another namespace (a container sharing /dev/shm)
/// is never judged: its id means another thread here.
inline bool certainly_gone(std::uint32_t tid, ThreadMark mark, std::uint32_t pid_namespace) noexcept
{
    if (pid_namespace != this_thread().pid_namespace) {
        return false;
    }
    if (tid == 0 || tid > 0x7FFFFFFF) {
        return true; // no thread has this id
    }
    if (::syscall(SYS_tkill, static_cast<int>(tid), 0) == -1 && errno == ESRCH) {
        return true;
    }
    const auto stat = thread_stat(tid);
    if (!stat) {
        return false; // cannot tell, so it lives
    }
    if (stat->state == 'Z' || stat->state == 'X') {
        return true;
    }
    return mark_tid(mark) == tid && mark_start(mark) != 0 &&
           mark_start(mark) != static_cast<std::uint32_t>(stat->start);
}

} // namespace filemap::detail::posix
