// filemap/detail/win32/sync.hpp - the kernel's locks and waits on Windows, for NamedMutex and
// Channel.
//
// ProcessMutex is a named kernel mutex (WAIT_ABANDONED tells the next owner
// that the last one died holding it); nothing of it lives in shared memory.
// WakeEvent is a named auto-reset event, set only when somebody announced
// that it sleeps. Their names derive from the shared object's (name.hpp's
// derived_name), and they live as long as their handles. Both implement the
// concepts of detail/port.hpp.
#pragma once

#include <filemap/detail/deadline.hpp>
#include <filemap/detail/port.hpp>
#include <filemap/detail/win32/api.hpp>
#include <filemap/detail/win32/port.hpp>
#include <filemap/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace filemap::detail::win {

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

/// A named kernel object made by `create(nullptr, ..., wide name)`.
template <class Create>
os::Handle named_kernel_object(Create create, std::string_view kernel_name, const char* what,
                               Error& error)
{
    os::Handle handle(create(widen(kernel_name).c_str()));
    if (!handle) {
        set_win32(error, GetLastError(), what);
    }
    return handle;
}

} // namespace filemap::detail::win

namespace filemap::detail::os {

/// A named kernel mutex. The kernel's are recursive; this one, like the
/// POSIX port's, says resource_deadlock_would_occur to a thread that locks
/// it again, and ignores an unlock by a thread that does not hold it.
class ProcessMutex {
public:
    /// Nothing of the mutex lives in shared memory: the kernel holds it.
    struct Slot {
        std::uint32_t unused[4];
    };

    static ProcessMutex attach(Slot&, std::string_view kernel_name, bool /*build*/, Error& error)
    {
        ProcessMutex mutex;
        mutex.handle_ = win::named_kernel_object(
            [](const wchar_t* name) { return CreateMutexW(nullptr, 0, name); }, kernel_name,
            "CreateMutexW", error);
        return mutex;
    }

    Locked lock(Slot&, const Deadline& deadline, Error& error)
    {
        const unsigned long me = GetCurrentThreadId();
        if (owner().load(std::memory_order_relaxed) == me) {
            error.set(std::errc::resource_deadlock_would_occur, "this thread holds it already");
            return Locked::timed_out;
        }
        Locked result = Locked::timed_out;
        switch (WaitForSingleObject(handle_.native(), win::milliseconds_until(deadline))) {
        case 0x00000000UL: result = Locked::acquired; break;   // WAIT_OBJECT_0
        case 0x00000080UL: result = Locked::owner_died; break; // WAIT_ABANDONED
        case 0x00000102UL: return Locked::timed_out;           // WAIT_TIMEOUT
        default: win::set_win32(error, GetLastError(), "locking"); return Locked::timed_out;
        }
        owner().store(me, std::memory_order_relaxed);
        return result;
    }

    void unlock(Slot&) noexcept
    {
        if (owner().load(std::memory_order_relaxed) == GetCurrentThreadId()) {
            owner().store(0, std::memory_order_relaxed);
            ReleaseMutex(handle_.native());
        }
    }

private:
    std::atomic_ref<unsigned long> owner() noexcept
    {
        return std::atomic_ref<unsigned long>(owner_);
    }

    Handle handle_;
    alignas(std::atomic_ref<unsigned long>::required_alignment) unsigned long owner_ = 0;
};

/// A manual-reset event: a wake releases every sleeper (a Shared<T> may have
/// many watchers), and each resets it on its way out, so the next sleep
/// blocks. A sleeper that announced itself but was not yet asleep when
/// another reset the event sleeps on to its slice's end (peer_check_interval).
class WakeEvent {
public:
    static WakeEvent attach(std::string_view kernel_name, Error& error)
    {
        WakeEvent event;
        event.handle_ = win::named_kernel_object(
            [](const wchar_t* name) { return CreateEventW(nullptr, 1, 0, name); }, kernel_name,
            "CreateEventW", error);
        return event;
    }

    /// Waits for the event (the word is the caller's to re-check: a stale
    /// set only costs one more check).
    void sleep(std::uint32_t&, std::uint32_t, const Deadline& deadline) noexcept
    {
        if (WaitForSingleObject(handle_.native(), win::milliseconds_until(deadline)) == 0) {
            ResetEvent(handle_.native());
        }
    }

    void wake(std::uint32_t&) noexcept { SetEvent(handle_.native()); }

private:
    Handle handle_;
};

static_assert(ProcessMutexPort<ProcessMutex>);
static_assert(WakeEventPort<WakeEvent>);

} // namespace filemap::detail::os
