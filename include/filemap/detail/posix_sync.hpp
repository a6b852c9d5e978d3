// filemap/detail/posix_sync.hpp - the POSIX waiting and locking that NamedMutex and Channel use.
//
// Exposes the same names as detail/win32_sync.hpp: MutexSlot and WakeSlot
// (what lives in shared memory), SharedMutex (a robust, process-shared
// pthread mutex: a holder that dies releases it, and the next locker is told)
// and Wakeup (a futex word with a waiter flag: waiting blocks in the kernel
// after a short spin, and a notify costs a system call only when somebody
// sleeps). Plain FUTEX_WAIT/FUTEX_WAKE, never the _PRIVATE forms: the word is
// shared by processes that map it at different addresses.
#pragma once

#include <filemap/error.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <string>

#include <pthread.h>
#include <time.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

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

namespace filemap::detail {

/// A robust process-shared mutex, as it lives in shared memory.
struct MutexSlot {
    pthread_mutex_t mutex;
};

/// A futex sequence word and a "somebody sleeps" flag, in shared memory.
struct WakeSlot {
    std::uint32_t sequence;
    std::uint32_t waiting;
};

inline timespec to_timespec(std::chrono::nanoseconds time) noexcept
{
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time);
    return {static_cast<time_t>(seconds.count()), static_cast<long>((time - seconds).count())};
}

class SharedMutex {
public:
    SharedMutex() noexcept = default;

    /// The creator initialises the slot; others attach to it. `name` is
    /// unused here (Windows names its kernel mutex after it).
    static SharedMutex make(MutexSlot& slot, const std::string& /*name*/, bool build, Error& error)
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
                return {};
            }
        }
        SharedMutex mutex;
        mutex.slot_ = &slot;
        return mutex;
    }

    /// Locks before `deadline` (nullopt: no limit; a past one: just try).
    Locked lock(const Deadline& deadline, Error& error)
    {
        int result = 0;
        if (!deadline) {
            result = pthread_mutex_lock(&slot_->mutex);
        } else if (*deadline <= Clock::now()) {
            result = pthread_mutex_trylock(&slot_->mutex);
        } else {
            const timespec until = to_timespec(deadline->time_since_epoch());
#if defined(FILEMAP_DETAIL_TSAN)
            // ThreadSanitizer intercepts every pthread mutex call but this one.
            __tsan_mutex_pre_lock(&slot_->mutex, __tsan_mutex_try_lock);
#endif
            result = pthread_mutex_clocklock(&slot_->mutex, CLOCK_MONOTONIC, &until);
#if defined(FILEMAP_DETAIL_TSAN)
            const bool failed = result != 0 && result != EOWNERDEAD;
            __tsan_mutex_post_lock(
                &slot_->mutex, __tsan_mutex_try_lock | (failed ? __tsan_mutex_try_lock_failed : 0),
                0);
#endif
        }
        switch (result) {
        case 0: return Locked::acquired;
        case EBUSY:
        case ETIMEDOUT: return Locked::timed_out;
        case EOWNERDEAD:
            // Without this the mutex is unusable for good (ENOTRECOVERABLE).
            pthread_mutex_consistent(&slot_->mutex);
            return Locked::owner_died;
        default: error.set_errno(result, "locking"); return Locked::timed_out;
        }
    }

    void unlock() noexcept
    {
        pthread_mutex_unlock(&slot_->mutex);
    }

private:
    MutexSlot* slot_ = nullptr;
};

class Wakeup {
public:
    Wakeup() noexcept = default;

    static Wakeup make(WakeSlot& slot, const std::string& /*name*/, bool /*build*/, Error&)
    {
        Wakeup wakeup;
        wakeup.slot_ = &slot;
        return wakeup;
    }

    /// Returns once `ready()` holds (true) or the deadline passed (false).
    template <class Ready>
    bool wait(Ready ready, const Deadline& deadline)
    {
        return spin_then(ready, [&] { return sleep(ready, deadline); });
    }

    /// Call after publishing: wakes the sleeper, if one announced itself.
    void notify() noexcept
    {
        // The waker clears the flag, so a message with nobody asleep costs no system call.
        if (take_sleepers(slot_->waiting)) {
            std::atomic_ref<std::uint32_t>(slot_->sequence).fetch_add(1, std::memory_order_release);
            futex(FUTEX_WAKE, INT_MAX, nullptr);
        }
    }

private:
    template <class Ready>
    bool sleep(Ready& ready, const Deadline& deadline)
    {
        std::atomic_ref<std::uint32_t> sequence(slot_->sequence);
        for (;;) {
            const std::uint32_t seen = sequence.load(std::memory_order_acquire);
            announce_sleeper(slot_->waiting);
            if (ready()) {
                return true;
            }
            timespec relative{};
            if (deadline) {
                const auto left = *deadline - Clock::now();
                if (left <= Clock::duration::zero()) {
                    return ready();
                }
                relative = to_timespec(left);
            }
            futex(FUTEX_WAIT, seen, deadline ? &relative : nullptr);
        }
    }

    void futex(int operation, std::uint32_t value, const timespec* timeout) noexcept
    {
        ::syscall(SYS_futex, &slot_->sequence, operation, value, timeout, nullptr, 0);
    }

    WakeSlot* slot_ = nullptr;
};

} // namespace filemap::detail
