// filemap/named_mutex.hpp - NamedMutex: a mutex shared by processes, by name.
//
// Lockable (std::lock_guard, std::unique_lock, std::scoped_lock), with
// try_lock and try_lock_for. Named, created and opened like a FileMapping
// (same name rules, Options, lifetimes and error model). Robust: when a
// process dies holding it, the next lock succeeds and previous_owner_died()
// says that the data it guards may be half-updated.
#pragma once

#include <filemap/detail/block.hpp>
#include <filemap/detail/deadline.hpp>
#include <filemap/detail/factory.hpp>
#include <filemap/detail/mapping.hpp>
#include <filemap/detail/platform.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace filemap {

/// A mutex shared by processes, by name. Moves leave the source empty; every
/// operation on an empty, closed or moved-from NamedMutex is
/// bad_file_descriptor. create() and open_or_create() come from
/// NamedFactory, with nothing between the name and the Options.
class NamedMutex : public detail::NamedFactory<NamedMutex> {
public:
    /// An empty mutex: is_open() is false.
    NamedMutex() noexcept = default;

    /// Opens an existing mutex. no_such_file_or_directory if there is none,
    /// invalid_argument if the name holds something else, timed_out if its
    /// creator never finished building it. Throws std::system_error.
    static NamedMutex open(std::string_view name)
    {
        return invoke(detail::Disposition::open, name, Options{}, nullptr);
    }
    /// open(), reporting a failure in `ec` (and returning an empty mutex).
    static NamedMutex open(std::string_view name, std::error_code& ec)
    {
        return invoke(detail::Disposition::open, name, Options{}, &ec);
    }

    /// Blocks until this thread holds the mutex. Throws std::system_error:
    /// resource_deadlock_would_occur if this thread holds it already,
    /// bad_file_descriptor if closed.
    void lock() { acquire("lock", std::nullopt); }
    /// Takes the mutex if it is free; never blocks. Fails as lock() does.
    bool try_lock() { return acquire("try_lock", detail::now_only()); }
    /// Takes the mutex if it becomes free within `timeout`. Fails as lock() does.
    template <class Rep, class Period>
    bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout)
    {
        return acquire("try_lock_for", detail::deadline_after(timeout));
    }
    /// Releases the mutex. Throws std::system_error with bad_file_descriptor
    /// if closed (so a std::lock_guard must not outlive the mutex it guards).
    /// Does nothing if this thread does not hold it: a waiter that judged
    /// this thread dead, or a peer that rewrote the lock, may have taken it,
    /// and releasing another's lock would be worse.
    void unlock()
    {
        Layout& layout = block_.layout("unlock", noun);
        block_.attached().mutex.unlock(layout.mutex);
    }

    /// True if the last acquisition recovered the mutex from a process that
    /// died holding it: what it guards may be half-updated.
    bool previous_owner_died() const noexcept { return block_.attached().previous_owner_died; }

    /// Whether this holds a mutex; false when empty, closed or moved from.
    bool is_open() const noexcept { return block_.is_open(); }
    /// The name as given; "" when closed.
    std::string_view name() const noexcept { return block_.name(); }
    /// True if the call that made this mutex created it (open_or_create says which).
    bool created() const noexcept { return block_.created(); }
    /// Lets go of the mutex object (not of a lock held: unlock first); idempotent.
    void close() noexcept { block_.close(); }

private:
    friend class detail::NamedFactory<NamedMutex>;

    using Lock = detail::os::ProcessMutex;

    /// The shared layout: the same bytes in 32- and 64-bit processes.
    struct Layout {
        detail::BlockHeader header;
        Lock::Slot mutex;
    };
    static_assert(offsetof(Layout, mutex) == 24 && sizeof(Layout) == 40,
                  "the same layout in every process, whatever its word size");
    struct Attached {
        Lock mutex;
        bool previous_owner_died = false;
    };
    static constexpr const char* noun = "mutex";
    static constexpr detail::BlockKind kind{0x584D4D46 /* "FMMX" */, 2, sizeof(Layout),
                                            sizeof(Layout), noun};

    static NamedMutex make(const detail::NamedRequest& request, detail::Error& error)
    {
        const std::string lock_name = detail::derived_name(request.name, "lock");
        const auto build = [&](Layout& layout, Attached&, detail::Error& failure) {
            Lock::attach(layout.mutex, lock_name, true, failure);
            return !failure;
        };
        const auto attach = [&](Layout& layout, std::size_t, Attached& attached,
                                detail::Error& failure) {
            attached.mutex = Lock::attach(layout.mutex, lock_name, false, failure);
            return !failure;
        };
        NamedMutex made;
        made.block_ = Block::make(request, kind, sizeof(Layout), build, attach, error);
        return made;
    }

    bool acquire(const char* operation, const detail::Deadline& deadline)
    {
        Layout& layout = block_.layout(operation, noun);
        detail::Error error;
        const detail::Locked result = block_.attached().mutex.lock(layout.mutex, deadline, error);
        if (error) {
            detail::throw_error(operation, name(), error);
        }
        if (result == detail::Locked::timed_out) {
            return false;
        }
        block_.attached().previous_owner_died = result == detail::Locked::owner_died;
        return true;
    }

    using Block = detail::Block<Layout, Attached>;
    Block block_;
};

} // namespace filemap
