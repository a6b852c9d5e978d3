// filemap/detail/hold.hpp - Hold: a process lock held for one scope.
//
// Channel's send and receive locks and Shared<T>'s guard take a lock the
// same way: with a deadline, reporting an error by exception, and letting go
// at the end of the scope whatever happens in between. Platform-free.
#pragma once

#include <filemap/detail/deadline.hpp>
#include <filemap/detail/platform.hpp>
#include <filemap/error.hpp>

#include <string_view>
#include <utility>

namespace filemap::detail {

/// Holds a ProcessMutex from construction to destruction (if it was taken);
/// a move hands the lock on.
class Hold {
public:
    using Lock = os::ProcessMutex;

    /// Takes `lock` (its shared state in `slot`) before `deadline`. Throws
    /// std::system_error for `operation` on `name` if locking fails; a
    /// deadline that passes leaves the Hold false.
    Hold(Lock& lock, Lock::Slot& slot, const char* operation, std::string_view name,
         const Deadline& deadline)
        : lock_(&lock), slot_(&slot)
    {
        Error error;
        const Locked result = lock.lock(slot, deadline, error);
        if (error) {
            throw_error(operation, name, error);
        }
        held_ = result != Locked::timed_out;
        owner_died_ = result == Locked::owner_died;
    }
    /// Takes over what `other` holds; `other` then holds nothing.
    Hold(Hold&& other) noexcept
        : lock_(other.lock_), slot_(other.slot_), held_(std::exchange(other.held_, false)),
          owner_died_(other.owner_died_)
    {
    }
    Hold& operator=(Hold&&) = delete;
    ~Hold()
    {
        if (held_) {
            lock_->unlock(*slot_);
        }
    }

    /// Whether the lock was taken (and not handed on).
    explicit operator bool() const noexcept { return held_; }
    /// Whether it was taken from a holder that died holding it.
    bool owner_died() const noexcept { return owner_died_; }

private:
    Lock* lock_;
    Lock::Slot* slot_;
    bool held_ = false;
    bool owner_died_ = false;
};

} // namespace filemap::detail
