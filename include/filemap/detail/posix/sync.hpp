// filemap/detail/posix/sync.hpp - the kernel's locks and waits on Linux, for NamedMutex and
// Channel.
//
// ProcessMutex is a robust, process-shared pthread mutex: a holder that dies
// releases it, and the next locker is told. WakeEvent is a futex: plain
// FUTEX_WAIT / FUTEX_WAKE, never the _PRIVATE forms, because the word is
// shared by processes that map it at different addresses. Both implement
// the concepts of detail/port.hpp.
#pragma once

#include <filemap/detail/deadline.hpp>
#include <filemap/detail/port.hpp>
#include <filemap/error.hpp>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <string_view>

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define FILEMAP_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FILEMAP_DETAIL_TSAN 1
#endif
#endif
#if defined(FILEMAP_DETAIL_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace filemap::detail::posix {

inline timespec to_timespec(std::chrono::nanoseconds time) noexcept
{
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time);
    return {static_cast<time_t>(seconds.count()), static_cast<long>((time - seconds).count())};
}

} // namespace filemap::detail::posix

namespace filemap::detail::os {

/// A robust process-shared pthread mutex in shared memory. This process's
/// attachment holds nothing: the slot is the whole lock.
class ProcessMutex {
public:
    /// The shared part.
    struct Slot {
        pthread_mutex_t mutex;
    };

    /// The creator (`build`) initialises the slot; others only attach.
    static ProcessMutex attach(Slot& slot, std::string_view /*kernel_name*/, bool build,
                               Error& error)
    {
        if (build) {
            pthread_mutexattr_t attributes;
            pthread_mutexattr_init(&attributes);
            pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
            pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
            const int result = pthread_mutex_init(&slot.mutex, &attributes);
            pthread_mutexattr_destroy(&attributes);
            if (result != 0) {
                error.set_errno(result, "pthread_mutex_init");
            }
        }
        return {};
    }

    /// Locks before `deadline` (nullopt: no limit; a past one: just try).
    Locked lock(Slot& slot, const Deadline& deadline, Error& error)
    {
        int result = 0;
        if (!deadline) {
            result = pthread_mutex_lock(&slot.mutex);
        } else if (*deadline <= Clock::now()) {
            result = pthread_mutex_trylock(&slot.mutex);
        } else {
            const timespec until = posix::to_timespec(deadline->time_since_epoch());
#if defined(FILEMAP_DETAIL_TSAN)
            // ThreadSanitizer intercepts every pthread mutex call but this one.
            __tsan_mutex_pre_lock(&slot.mutex, __tsan_mutex_try_lock);
#endif
            result = pthread_mutex_clocklock(&slot.mutex, CLOCK_MONOTONIC, &until);
#if defined(FILEMAP_DETAIL_TSAN)
            const bool failed = result != 0 && result != EOWNERDEAD;
            __tsan_mutex_post_lock(
                &slot.mutex, __tsan_mutex_try_lock | (failed ? __tsan_mutex_try_lock_failed : 0),
                0);
#endif
        }
        switch (result) {
        case 0: return Locked::acquired;
        case EBUSY:
        case ETIMEDOUT: return Locked::timed_out;
        case EOWNERDEAD:
            // Without this the mutex is unusable for good (ENOTRECOVERABLE).
            pthread_mutex_consistent(&slot.mutex);
            return Locked::owner_died;
        default: error.set_errno(result, "locking"); return Locked::timed_out;
        }
    }

    void unlock(Slot& slot) noexcept
    {
        pthread_mutex_unlock(&slot.mutex);
    }
};

/// A futex on a 32-bit word in shared memory; nothing per process.
class WakeEvent {
public:
    static WakeEvent attach(std::string_view /*kernel_name*/, Error&) { return {}; }

    /// Blocks while `word` equals `seen`, until a wake or the deadline.
    void sleep(std::uint32_t& word, std::uint32_t seen, const Deadline& deadline) noexcept
    {
        timespec relative{};
        if (deadline) {
            const auto left = *deadline - Clock::now();
            if (left <= Clock::duration::zero()) {
                return;
            }
            relative = posix::to_timespec(left);
        }
        futex(word, FUTEX_WAIT, seen, deadline ? &relative : nullptr);
    }

    /// Wakes every sleeper on `word`.
    void wake(std::uint32_t& word) noexcept { futex(word, FUTEX_WAKE, INT_MAX, nullptr); }

private:
    static void futex(std::uint32_t& word, int operation, std::uint32_t value,
                      const timespec* timeout) noexcept
    {
        ::syscall(SYS_futex, &word, operation, value, timeout, nullptr, 0);
    }
};

static_assert(ProcessMutexPort<ProcessMutex>);
static_assert(WakeEventPort<WakeEvent>);

} // namespace filemap::detail::os
