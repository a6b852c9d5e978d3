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

class ProcessMutex {
public:
    /// Nothing of the mutex lives in shared memory: the kernel holds it.
    struct Slot {
        std::uint64_t unused;
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
        switch (WaitForSingleObject(handle_.native(), win::milliseconds_until(deadline))) {
        case 0x00000000UL: return Locked::acquired;   // WAIT_OBJECT_0
        case 0x00000080UL: return Locked::owner_died; // WAIT_ABANDONED
        case 0x00000102UL: return Locked::timed_out;  // WAIT_TIMEOUT
        default: win::set_win32(error, GetLastError(), "locking"); return Locked::timed_out;
        }
    }

    void unlock(Slot&) noexcept { ReleaseMutex(handle_.native()); }

private:
    Handle handle_;
};

class WakeEvent {
public:
    static WakeEvent attach(std::string_view kernel_name, Error& error)
    {
        WakeEvent event;
        event.handle_ = win::named_kernel_object(
            [](const wchar_t* name) { return CreateEventW(nullptr, 0, 0, name); }, kernel_name,
            "CreateEventW", error);
        return event;
    }

    /// Waits for the event (the word is the caller's to re-check: a stale
    /// set only costs one more check).
    void sleep(std::uint32_t&, std::uint32_t, const Deadline& deadline) noexcept
    {
        WaitForSingleObject(handle_.native(), win::milliseconds_until(deadline));
    }

    void wake(std::uint32_t&) noexcept { SetEvent(handle_.native()); }

private:
    Handle handle_;
};

static_assert(ProcessMutexPort<ProcessMutex>);
static_assert(WakeEventPort<WakeEvent>);

} // namespace filemap::detail::os
