// filemap/detail/posix/system.hpp - the POSIX system calls filemap makes, thinly wrapped.
//
// An owned descriptor, EINTR retries, fstat, sizing, this process's id and
// fork count, the kernel locks the naming protocol builds on (OFD byte
// locks), and futexes.
// Errors go into detail::Error as errno values in std::generic_category.
// No policy and no protocol: those are in detail/mapping.hpp and
// detail/posix/scoped_name.hpp.
#pragma once

#include <filemap/error.hpp>
#include <filemap/options.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace filemap::detail::posix {

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

/// One owned file descriptor; -1 when empty. Moves leave the source empty.
class Descriptor {
public:
    Descriptor() noexcept = default;
    explicit Descriptor(int fd) noexcept : fd_(fd) {}
    Descriptor(Descriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Descriptor& operator=(Descriptor&& other) noexcept
    {
        Descriptor(std::move(other)).swap(*this);
        return *this;
    }
    ~Descriptor() { close(); }

    void swap(Descriptor& other) noexcept { std::swap(fd_, other.fd_); }
    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void close() noexcept
    {
        if (fd_ >= 0) {
            ::close(std::exchange(fd_, -1));
        }
    }

private:
    int fd_ = -1;
};

inline std::size_t page_size() noexcept
{
    static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

inline mode_t mode_of(std::filesystem::perms permissions) noexcept
{
    return static_cast<mode_t>(permissions & std::filesystem::perms::all);
}

inline int open_flags(Access access) noexcept
{
    return access == Access::read_write ? O_RDWR : O_RDONLY;
}

/// fstat, with the failure recorded.
inline bool stat_of(int fd, struct stat& st, Error& error)
{
    if (::fstat(fd, &st) != 0) {
        error.set_errno(errno, "fstat");
        return false;
    }
    return true;
}

/// Gives an object or file its size: reserved (every page backed now, so a
/// full /dev/shm fails here rather than as SIGBUS on first touch) or sparse.
inline bool resize(int fd, std::size_t size, bool reserve, Error& error)
{
    if (static_cast<std::uintmax_t>(size) >
        static_cast<std::uintmax_t>(std::numeric_limits<off_t>::max())) {
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

// ---- this process ----------------------------------------------------------

/// How many times this process forked (counted in parent and child alike)
/// since process_state() first ran. Constant-initialised: a hot path that
/// has seen process_state() run reads it without a guard.
inline std::atomic<unsigned> fork_count{0};

/// This process's id, kept up to date by pthread_atfork instead of a
/// getpid() system call per operation; the same handlers count forks.
struct ProcessState {
    std::atomic<pid_t> pid{::getpid()};
};

inline ProcessState& process_state() noexcept
{
    static ProcessState state;
    static const bool registered = [] {
        ::pthread_atfork(
            nullptr, [] { fork_count.fetch_add(1, std::memory_order_relaxed); },
            [] {
                process_state().pid.store(::getpid(), std::memory_order_relaxed);
                fork_count.fetch_add(1, std::memory_order_relaxed);
            });
        return true;
    }();
    static_cast<void>(registered);
    return state;
}

inline pid_t current_process() noexcept
{
    return process_state().pid.load(std::memory_order_relaxed);
}

/// fork_count, after making sure the handlers that count are registered.
inline unsigned current_forks() noexcept
{
    process_state();
    return fork_count.load(std::memory_order_relaxed);
}

// ---- kernel locks --------------------------------------------------------

/// An OFD lock of `type` (F_RDLCK, F_WRLCK, F_UNLCK) on byte 0, not waiting.
inline bool set_byte_lock(int fd, short type) noexcept
{
    struct flock lock {};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 1;
    return retry_eintr([&] { return ::fcntl(fd, F_OFD_SETLK, &lock); }) == 0;
}

/// The lock that another descriptor holds on byte 0: F_UNLCK (none),
/// F_RDLCK or F_WRLCK. When in doubt, F_RDLCK: assume it is held.
inline short byte_lock_of_others(int fd) noexcept
{
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    probe.l_start = 0;
    probe.l_len = 1;
    if (::fcntl(fd, F_OFD_GETLK, &probe) != 0) {
        return F_RDLCK;
    }
    return probe.l_type;
}

/// True if a descriptor other than `fd`'s holds a lock on byte 0.
inline bool byte_locked_by_others(int fd) noexcept
{
    return byte_lock_of_others(fd) != F_UNLCK;
}

// ---- futexes ----------------------------------------------------------------

inline timespec to_timespec(std::chrono::nanoseconds time) noexcept
{
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time);
    return {static_cast<time_t>(seconds.count()), static_cast<long>((time - seconds).count())};
}

/// Sleeps while `word` holds `seen`, at most `timeout` (none: no limit).
/// Plain FUTEX_WAIT, never the _PRIVATE form: the word is shared by
/// processes that map it at different addresses.
inline void futex_wait(std::uint32_t& word, std::uint32_t seen,
                       const std::optional<std::chrono::nanoseconds>& timeout) noexcept
{
    timespec relative{};
    if (timeout) {
        relative = to_timespec(*timeout);
    }
    ::syscall(SYS_futex, &word, FUTEX_WAIT, seen, timeout ? &relative : nullptr, nullptr, 0);
}

/// Wakes up to `count` sleepers on `word`.
inline void futex_wake(std::uint32_t& word, int count) noexcept
{
    ::syscall(SYS_futex, &word, FUTEX_WAKE, count, nullptr, nullptr, 0);
}

} // namespace filemap::detail::posix
