// filemap/detail/posix/robust_lock.hpp - a process-shared lock that a dying or hostile peer
// cannot turn against us.
//
// glibc's robust mutex keeps the holder thread's robust-list links inside the
// shared pthread_mutex_t and writes through them on unlock, so a peer that
// rewrites them makes the holder write wherever they point; it is also 24
// bytes in a 32-bit process and 40 in a 64-bit one. This lock is 16 bytes of
// plain integers, the same in both, and no code reads a pointer from them:
//
//   word    a 32-bit futex word: 0 when free, else the holder's thread id,
//           with bit 31 set once somebody sleeps waiting for it;
//   holder  the holder's ThreadMark (its id and start time, liveness.hpp)
//           and PID namespace, stored just after it took the word.
//
// lock:   compare-and-swap the word from 0 to our id, then store our mark.
// unlock: compare-and-swap it from our id to 0; if the waiters bit is set,
//         store 0 and wake one sleeper (FUTEX_WAKE).
// wait:   a short spin, then set the waiters bit and FUTEX_WAIT, in slices of
//         peer_check_interval. At most once a slice per process, a waiter
//         asks whether the holder is certainly gone (killed, exited, its id
//         reused); if so it swaps the dead holder's word for its own and
//         reports owner_died. The slices also bound a wake-up lost to a
//         holder that died between releasing the word and waking us.
//
// What a peer with write access can do: make the lock look held (the
// caller's deadline bounds the wait; a mark of a dead thread is taken over)
// or free (mutual exclusion is any writer's to break), or make it look held
// by the calling thread (resource_deadlock_would_occur). Nothing it writes is
// followed as a pointer or used as an index. Owner death is seen through
// thread ids, which mean something only in one PID namespace: the holder's
// namespace is recorded beside its mark, and a holder of another namespace
// (a container sharing /dev/shm) is waited for, never judged dead.
#pragma once

#include <filemap/detail/atomic64.hpp>
#include <filemap/detail/deadline.hpp>
#include <filemap/detail/posix/liveness.hpp>
#include <filemap/detail/posix/system.hpp>
#include <filemap/detail/spin.hpp>
#include <filemap/detail/steps.hpp>
#include <filemap/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace filemap::detail::posix {

class RobustLock {
public:
    /// The shared part: fixed-width integers only.
    struct Slot {
        std::uint32_t word;              ///< 0, or the holder's thread id | waiters_bit
        std::uint32_t pid_namespace;     ///< the holder's, where its id means it
        alignas(8) std::uint64_t holder; ///< the holder's ThreadMark
    };
    static_assert(sizeof(Slot) == 16);

    static constexpr std::uint32_t waiters_bit = 0x80000000;
    static constexpr std::uint32_t tid_mask = 0x7FFFFFFF;

    /// Zeroed memory is a free lock: nothing to build, nothing to attach.
    static RobustLock attach(Slot&, std::string_view /*kernel_name*/, bool /*build*/, Error&)
    {
        return {};
    }

    /// Locks before `deadline` (nullopt: no limit; a past one: just try).
    /// resource_deadlock_would_occur if this thread holds it already.
    Locked lock(Slot& slot, const Deadline& deadline, Error& error)
    {
        const ThreadMark me = this_thread().mark;
        std::uint32_t seen = 0;
        if (word_of(slot).compare_exchange_strong(seen, mark_tid(me), std::memory_order_acquire,
                                                  std::memory_order_relaxed)) {
            hold(slot, me);
            return Locked::acquired;
        }
        return lock_contended(slot, me, deadline, error);
    }

    /// Unlocks, if this thread holds the lock; else does nothing (a peer
    /// may have rewritten the word: releasing another's lock would be worse).
    void unlock(Slot& slot) noexcept
    {
        const std::uint32_t tid = mark_tid(this_thread().mark);
        std::uint32_t seen = tid;
        std::atomic_ref<std::uint32_t> word = word_of(slot);
        if (word.compare_exchange_strong(seen, 0, std::memory_order_release,
                                         std::memory_order_relaxed)) {
            return;
        }
        if ((seen & tid_mask) != tid) {
            return;
        }
        word.store(0, std::memory_order_release);
        FILEMAP_STEP(unlock_released);
        futex_wake(slot.word, 1);
    }

private:
    static std::atomic_ref<std::uint32_t> word_of(Slot& slot) noexcept
    {
        return std::atomic_ref<std::uint32_t>(slot.word);
    }

    static void hold(Slot& slot, ThreadMark me) noexcept
    {
        FILEMAP_STEP(lock_taken);
        Atomic64 holder(slot.holder);
        if (holder.load(std::memory_order_relaxed) != me) { // a thread that relocks stores nothing
            std::atomic_ref<std::uint32_t>(slot.pid_namespace)
                .store(this_thread().pid_namespace, std::memory_order_relaxed);
            holder.store(me, std::memory_order_release); // the namespace is seen with it
        }
    }

    Locked lock_contended(Slot& slot, ThreadMark me, const Deadline& deadline, Error& error)
    {
        const std::uint32_t tid = mark_tid(me);
        std::atomic_ref<std::uint32_t> word = word_of(slot);
        if ((word.load(std::memory_order_relaxed) & tid_mask) == tid) {
            error.set(std::errc::resource_deadlock_would_occur, "this thread holds it already");
            return Locked::timed_out;
        }
        // A holder in a short critical section lets go soon: look again after
        // 1, 2, 4 ... 16 pauses (about 0.6 us in all), reading the word seldom
        // enough not to slow the holder down. Longer spins measured slower.
        const bool may_wait = !deadline || *deadline > Clock::now();
        for (int pauses = 1; may_wait && pauses <= max_spin_pauses; pauses *= 2) {
            for (int i = 0; i < pauses; ++i) {
                spin_pause();
            }
            std::uint32_t seen = word.load(std::memory_order_relaxed);
            if ((seen & tid_mask) == 0 &&
                word.compare_exchange_strong(seen, tid | (seen & waiters_bit),
                                             std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
                hold(slot, me);
                return Locked::acquired;
            }
        }
        std::uint32_t unrecorded = 0; // a word whose holder had not recorded itself
        for (;;) {
            std::uint32_t seen = word.load(std::memory_order_relaxed);
            if ((seen & tid_mask) == 0) {
                // Free: take it with the waiters bit, as others may sleep on it.
                if (word.compare_exchange_weak(seen, tid | waiters_bit, std::memory_order_acquire,
                                               std::memory_order_relaxed)) {
                    hold(slot, me);
                    return Locked::acquired;
                }
                continue;
            }
            const auto now = Clock::now();
            if (check_due(now) && holder_gone(slot, seen, unrecorded)) {
                if (word.compare_exchange_strong(seen, tid | waiters_bit, std::memory_order_acquire,
                                                 std::memory_order_relaxed)) {
                    hold(slot, me);
                    return Locked::owner_died;
                }
                continue;
            }
            if (deadline && *deadline <= now) {
                return Locked::timed_out;
            }
            if ((seen & waiters_bit) == 0) {
                if (!word.compare_exchange_weak(seen, seen | waiters_bit,
                                                std::memory_order_relaxed)) {
                    continue;
                }
                seen |= waiters_bit;
            }
            auto slice = Clock::duration(peer_check_interval);
            if (deadline && *deadline - now < slice) {
                slice = *deadline - now;
            }
            futex_wait(slot.word, seen, slice);
        }
    }

    /// Whether the holder of the word `seen` is certainly gone. A holder
    /// whose mark names another thread has not recorded itself yet: it is
    /// judged only if it still has not at the next check, an interval later
    /// (it died in between, or is about to record itself), and then by its
    /// id alone, in the namespace last recorded (ours, if none was).
    static bool holder_gone(Slot& slot, std::uint32_t seen, std::uint32_t& unrecorded) noexcept
    {
        const std::uint32_t tid = seen & tid_mask;
        const ThreadMark mark = Atomic64(slot.holder).load(std::memory_order_acquire);
        std::uint32_t pid_namespace =
            std::atomic_ref<std::uint32_t>(slot.pid_namespace).load(std::memory_order_relaxed);
        if (pid_namespace == 0 && mark == 0) { // nobody ever recorded itself here
            pid_namespace = this_thread().pid_namespace;
        }
        if (mark_tid(mark) != tid && unrecorded != seen) {
            unrecorded = seen;
            return false;
        }
        return certainly_gone(tid, mark, pid_namespace);
    }

    /// True at most once per peer_check_interval in this process's
    /// attachment: whether it is this waiter's turn to check the holder.
    bool check_due(Clock::time_point now) noexcept
    {
        Atomic64 next(next_check_);
        const auto at = static_cast<std::uint64_t>(now.time_since_epoch().count());
        std::uint64_t due = next.load(std::memory_order_relaxed);
        const auto interval =
            static_cast<std::uint64_t>(Clock::duration(peer_check_interval).count());
        return at >= due &&
               next.compare_exchange_strong(due, at + interval, std::memory_order_relaxed,
                                            std::memory_order_relaxed);
    }

    static constexpr int max_spin_pauses = 16;
    alignas(8) std::uint64_t next_check_ = 0; ///< steady_clock ticks since its epoch
};

} // namespace filemap::detail::posix
