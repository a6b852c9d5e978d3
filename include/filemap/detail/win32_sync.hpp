// filemap/detail/win32_sync.hpp - the Win32 waiting and locking that NamedMutex and Channel use.
//
// Exposes the same names as detail/posix_sync.hpp. SharedMutex is a named
// kernel mutex (WAIT_ABANDONED tells the next owner that the last one died
// holding it); Wakeup is a waiter flag in shared memory with a named
// auto-reset event, set only when somebody announced that it sleeps. The
// kernel objects are named after the shared object with a '#' suffix, which
// no valid filemap name contains, and live as long as their handles.
#pragma once

#include <filemap/detail/win32.hpp>
#include <filemap/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace filemap::detail {

/// Nothing of the mutex lives in shared memory on Windows: the kernel holds it.
struct MutexSlot {
    std::uint64_t unused;
};

/// A waiter flag (and a sequence word, unused here, for the same layout).
struct WakeSlot {
    std::uint32_t sequence;
    std::uint32_t waiting;
};

/// Milliseconds until `deadline`, rounded up; INFINITE without one.
inline unsigned long milliseconds_until(const Deadline& deadline) noexcept
{
    if (!deadline) {
        return 0xFFFFFFFFUL; // INFINITE
    }
    const auto left = *deadline - Clock::now();
    if (left <= Clock::duration::zero()) {
        return 0;
    }
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms >= 0xFFFFFFFELL ? 0xFFFFFFFEUL : static_cast<unsigned long>(ms);
}

class SharedMutex {
public:
    SharedMutex() noexcept = default;

    static SharedMutex make(MutexSlot&, const std::string& name, bool /*build*/, Error& error)
    {
        SharedMutex mutex;
        mutex.handle_ = Handle(CreateMutexW(nullptr, 0, win::widen(name).c_str()));
        if (!mutex.handle_) {
            win::set_win32(error, GetLastError(), "CreateMutexW");
        }
        return mutex;
    }

    Locked lock(const Deadline& deadline, Error& error)
    {
        switch (WaitForSingleObject(handle_.get(), milliseconds_until(deadline))) {
        case 0x00000000UL: return Locked::acquired;   // WAIT_OBJECT_0
        case 0x00000080UL: return Locked::owner_died; // WAIT_ABANDONED
        case 0x00000102UL: return Locked::timed_out;  // WAIT_TIMEOUT
        default: win::set_win32(error, GetLastError(), "locking"); return Locked::timed_out;
        }
    }

    void unlock() noexcept { ReleaseMutex(handle_.get()); }

private:
    Handle handle_;
};

class Wakeup {
public:
    Wakeup() noexcept = default;

    static Wakeup make(WakeSlot& slot, const std::string& name, bool /*build*/, Error& error)
    {
        Wakeup wakeup;
        wakeup.slot_ = &slot;
        wakeup.event_ = Handle(CreateEventW(nullptr, 0, 0, win::widen(name).c_str()));
        if (!wakeup.event_) {
            win::set_win32(error, GetLastError(), "CreateEventW");
        }
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
        if (take_sleepers(slot_->waiting)) {
            SetEvent(event_.get());
        }
    }

private:
    template <class Ready>
    bool sleep(Ready& ready, const Deadline& deadline)
    {
        for (;;) {
            announce_sleeper(slot_->waiting);
            if (ready()) {
                return true;
            }
            const unsigned long ms = milliseconds_until(deadline);
            if (ms == 0) {
                return ready();
            }
            WaitForSingleObject(event_.get(), ms); // a stale set only costs one more check
        }
    }

    WakeSlot* slot_ = nullptr;
    Handle event_;
};

} // namespace filemap::detail
