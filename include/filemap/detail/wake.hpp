// filemap/detail/wake.hpp - waiting for a condition in shared memory, written once.
//
// A sleeper and a waker meet at a WakeSlot in shared memory. The waiting
// side spins about 20 us (a quick answer costs no system call), then sleeps
// in the kernel through the port's WakeEvent (a futex on Linux, a named event
// on Windows), in slices of peer_check_interval, looking at its condition
// after each: a waker may die between publishing and waking, and the slices
// bound how long its wake-up can be missed. A notify costs a system call only
// when somebody announced a sleep. Waiters that outnumber the CPUs (a topic's
// subscribers) yield between looks instead of holding their CPU, so that the
// ones already woken are not kept from running. Platform-free: the port
// supplies only the kernel's sleep and wake.
#pragma once

#include <filemap/detail/deadline.hpp>
#include <filemap/detail/platform.hpp>
#include <filemap/detail/spin.hpp>
#include <filemap/error.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <thread>

namespace filemap::detail {

/// Where a sleeper and a waker meet, in shared memory.
struct WakeSlot {
    std::uint32_t sequence; ///< bumped by every wake that found a sleeper
    std::uint32_t waiting;  ///< 1 once a sleeper announced itself
};

/// How a waiter spins before it sleeps.
enum class Spin {
    busy,     ///< looks without pause: the quickest answer, but it holds its CPU
    yielding, ///< offers its CPU to others between looks
};

/// Spin::busy while `waiters` can each have a CPU of their own, else
/// Spin::yielding: busy waiters beyond the CPUs only delay the woken.
inline Spin spin_for(std::size_t waiters)
{
    static const std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
    return waiters <= cpus ? Spin::busy : Spin::yielding;
}

/// Spins about 20 us for `ready()`, then calls `sleep()`, the kernel wait.
template <class Ready, class Sleep>
bool spin_then(Ready& ready, Sleep sleep, Spin spin = Spin::busy)
{
    const auto spin_until = Clock::now() + std::chrono::microseconds(20);
    if (spin == Spin::yielding) {
        while (!ready()) {
            // A yield is a system call: the clock costs little beside it.
            if (Clock::now() >= spin_until) {
                return sleep();
            }
            std::this_thread::yield();
        }
        return true;
    }
    for (int i = 0; !ready(); ++i) {
        if ((i & 63) == 63 && Clock::now() >= spin_until) {
            return sleep();
        }
        spin_pause();
    }
    return true;
}

/* The sleeper announces itself, then checks its condition once more; the
 * waker publishes, then takes the announcement and wakes only if there was
 * one. Both steps are read-modify-writes of the same word, so one of them
 * comes first in its modification order: either the waker sees the
 * announcement, or the sleeper's exchange reads the waker's and so (acquire
 * after release) sees what the waker published. No wake-up is lost, no
 * fence is needed, and ThreadSanitizer understands it. */

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

/// This process's side of one WakeSlot: the port's kernel event, if any.
class Wakeup {
public:
    Wakeup() noexcept = default;

    /// Attaches to the kernel event for `kernel_name` (Windows names one).
    static Wakeup attach(std::string_view kernel_name, Error& error)
    {
        Wakeup wakeup;
        wakeup.event_ = os::WakeEvent::attach(kernel_name, error);
        return wakeup;
    }

    /// Returns once `ready()` holds (true) or the deadline passed (false).
    template <class Ready>
    bool wait(WakeSlot& slot, Ready ready, const Deadline& deadline, Spin spin = Spin::busy)
    {
        return spin_then(
            ready, [&] { return sleep(slot, ready, deadline); }, spin);
    }

    /// wait() for a sleeper that may not write the slot (a read-only
    /// mapping): it cannot announce itself, so no waker knows it sleeps, and
    /// it looks again every watch_interval (1 ms) instead.
    template <class Ready>
    bool watch(WakeSlot& slot, Ready ready, const Deadline& deadline)
    {
        return spin_then(ready, [&] {
            for (;;) {
                const std::uint32_t seen =
                    std::atomic_ref<std::uint32_t>(slot.sequence).load(std::memory_order_acquire);
                if (ready()) {
                    return true;
                }
                const auto now = Clock::now();
                if (deadline && *deadline <= now) {
                    return false;
                }
                event_.sleep(slot.sequence, seen, slice(deadline, now, watch_interval));
            }
        });
    }

    /// Call after publishing: wakes the sleepers, if one announced itself.
    void notify(WakeSlot& slot) noexcept
    {
        // The waker clears the flag, so a message with nobody asleep costs no system call.
        if (take_sleepers(slot.waiting)) {
            std::atomic_ref<std::uint32_t>(slot.sequence).fetch_add(1, std::memory_order_release);
            event_.wake(slot.sequence);
        }
    }

private:
    template <class Ready>
    bool sleep(WakeSlot& slot, Ready& ready, const Deadline& deadline)
    {
        std::atomic_ref<std::uint32_t> sequence(slot.sequence);
        for (;;) {
            const std::uint32_t seen = sequence.load(std::memory_order_acquire);
            announce_sleeper(slot.waiting);
            if (ready()) {
                return true;
            }
            const auto now = Clock::now();
            if (deadline && *deadline <= now) {
                return ready();
            }
            // Never longer than peer_check_interval: a waker that died between
            // publishing and waking us left a condition that holds already.
            // A spurious return costs one more check.
            event_.sleep(slot.sequence, seen, slice(deadline, now, peer_check_interval));
        }
    }

    /// The end of one sleep: `interval` from `now`, or the deadline if sooner.
    static Deadline slice(const Deadline& deadline, Clock::time_point now,
                          std::chrono::milliseconds interval) noexcept
    {
        return deadline && *deadline - now < interval ? *deadline : now + interval;
    }

    os::WakeEvent event_;
};

} // namespace filemap::detail
