// filemap/detail/deadline.hpp - when a wait gives up, and how a lock attempt ended.
//
// Ground for every wait in filemap: a Deadline is a steady_clock time or
// none (wait for ever); deadline_after() saturates instead of overflowing
// for durations such as hours::max(). peer_check_interval bounds every wait
// a dead peer could otherwise make endless. Platform-free.
#pragma once

#include <chrono>
#include <optional>

namespace filemap::detail {

using Clock = std::chrono::steady_clock;
/// When to give up waiting; nullopt: never.
using Deadline = std::optional<Clock::time_point>;

/// How long a sleeper waits before it looks, itself, for what a peer that
/// died may have left undone: a wake-up it never sent, a lock it still
/// holds. The bound on what a dead peer can cost a waiter (plus scheduling).
inline constexpr std::chrono::milliseconds peer_check_interval{20};

/// How often a sleeper that cannot announce itself (it maps the object
/// read-only, so it cannot write the flag a waker looks at) looks again.
inline constexpr std::chrono::milliseconds watch_interval{1};

/// How an attempt to take a process-shared lock ended.
enum class Locked { acquired, owner_died, timed_out };

template <class Rep, class Period>
Deadline deadline_after(const std::chrono::duration<Rep, Period>& timeout)
{
    const auto now = Clock::now();
    if (timeout <= std::chrono::duration<Rep, Period>::zero()) {
        return now;
    }
    if (std::chrono::duration_cast<std::chrono::duration<double>>(timeout).count() >
        std::chrono::duration_cast<std::chrono::duration<double>>(Clock::time_point::max() - now)
            .count()) {
        return std::nullopt;
    }
    return now + std::chrono::duration_cast<Clock::duration>(timeout);
}

/// A deadline that has already passed: try once, never wait.
inline Deadline now_only()
{
    return Clock::now();
}

} // namespace filemap::detail
