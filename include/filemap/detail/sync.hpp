// filemap/detail/sync.hpp - what NamedMutex and Channel share: deadlines, the
// platform's SharedMutex and Wakeup, and the initialisation protocol.
//
// A shared object is created zeroed and usable by openers at once, so its
// first word says whether it is built: only the handle that created it
// builds the contents, then stores `ready_state` and wakes waiters; openers
// wait for it with a bounded wait and report a clear error if it never comes.
// open_or_create never initialises an object it opened.
#pragma once

#include <filemap/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#if defined(_MSC_VER)
#include <intrin.h>
#endif

namespace filemap::detail {

using Clock = std::chrono::steady_clock;
/// When to give up waiting; nullopt: never.
using Deadline = std::optional<Clock::time_point>;

enum class Locked { acquired, owner_died, timed_out };

template <class Rep, class Period>
Deadline deadline_after(const std::chrono::duration<Rep, Period>& timeout)
{
    const auto now = Clock::now();
    if (timeout <= std::chrono::duration<Rep, Period>::zero()) {
        return now;
    }
    // Saturate instead of overflowing for durations like hours::max().
    if (std::chrono::duration_cast<std::chrono::duration<double>>(timeout).count() >
        std::chrono::duration_cast<std::chrono::duration<double>>(Clock::time_point::max() - now)
            .count()) {
        return std::nullopt;
    }
    return now + std::chrono::duration_cast<Clock::duration>(timeout);
}

inline void spin_pause() noexcept
{
#if defined(_MSC_VER)
    _mm_pause();
#elif defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

/// Spins about 20 us for `ready()`, then calls `sleep()`, the platform's
/// kernel wait: the short spin catches a quick answer without a system call.
template <class Ready, class Sleep>
bool spin_then(Ready& ready, Sleep sleep)
{
    const auto spin_until = Clock::now() + std::chrono::microseconds(20);
    for (int i = 0; !ready(); ++i) {
        if ((i & 63) == 63 && Clock::now() >= spin_until) {
            return sleep();
        }
        spin_pause();
    }
    return true;
}

/* A sleeper and a waker meet at a `waiting` word in shared memory. The
 * sleeper announces itself, then checks its condition once more; the waker
 * publishes, then takes the announcement and wakes only if there was one.
 * Both steps are read-modify-writes of the same word, so one of them comes
 * first in its modification order: either the waker sees the announcement,
 * or the sleeper's exchange reads the waker's and so (acquire after
 * release) sees what the waker published. No wake-up is lost, no fence is
 * needed, and ThreadSanitizer understands it. */

/// The sleeper's side, before its last check of the condition.
inline void announce_sleeper(std::uint32_t& waiting) noexcept
{
    std::atomic_ref<std::uint32_t>(waiting).exchange(1, std::memory_order_acq_rel);
}

/// The waker's side, after publishing: true if someone announced a sleep.
inline bool take_sleepers(std::uint32_t& waiting) noexcept
{
    return std::atomic_ref<std::uint32_t>(waiting).exchange(0, std::memory_order_acq_rel) != 0;
}

} // namespace filemap::detail

#if defined(_WIN32)
#include <filemap/detail/win32_sync.hpp>
#else
#include <filemap/detail/posix_sync.hpp>
#endif

namespace filemap::detail {

inline constexpr std::uint32_t ready_state = 0x59444552; // "REDY"

/// The creator's last step: the contents are built.
inline void publish_ready(std::uint32_t& state, Wakeup& wakeup) noexcept
{
    std::atomic_ref<std::uint32_t>(state).store(ready_state, std::memory_order_release);
    wakeup.notify();
}

/// An opener's first step: wait (bounded) until the creator has built it.
inline bool await_ready(std::uint32_t& state, Wakeup& wakeup, Error& error)
{
    std::atomic_ref<std::uint32_t> word(state);
    const auto value = word.load(std::memory_order_acquire);
    if (value != 0 && value != ready_state) {
        error.set(std::errc::invalid_argument, "the object is not of this kind");
        return false;
    }
    const bool ready =
        wakeup.wait([&] { return word.load(std::memory_order_acquire) == ready_state; },
                    Clock::now() + std::chrono::seconds(5));
    if (!ready) {
        error.set(std::errc::timed_out, "its creator never finished building it");
    }
    return ready;
}

} // namespace filemap::detail
