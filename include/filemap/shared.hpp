// filemap/shared.hpp - Shared<T>: one typed object shared by processes, by name, its layout
// checked.
//
// The struct-in-a-mapping every user writes by hand, done once: the creator
// constructs T exactly once (racing open_or_create calls agree on one
// creator), and records T's size, alignment, type tag, byte order and
// pointer width in a fixed-width header that every opener checks, so a
// program with another T fails at open with a message naming the
// difference instead of reading garbage. Then:
//   lock()   a guard giving T&, for read-modify-write; robust (a holder that
//            died is reported by previous_owner_died(), so the caller can
//            repair); try_lock_for() bounds the wait for a live holder;
//   load()   a consistent snapshot that never blocks the writer and is never
//            torn (detail/snapshot.hpp);
//   store()  publishes a whole new value and wakes watchers;
//   wait_for_change()  sleeps in the kernel until the version moves.
//
// The object: a 192-byte header (block header, type record, lock, version,
// wake slot), then three copies of T, each on its own cache lines: the one
// guards work on, and the two that load() reads. Any process that maps it
// may write any bytes at any time: the header is checked once at open and
// never read again but for the lock, the version and the wake slot, whose
// every value is safe; a peer can make load() fail with timed_out, never
// crash it or tear a value beyond the bytes the peer wrote itself.
#pragma once

#include <filemap/detail/block.hpp>
#include <filemap/detail/deadline.hpp>
#include <filemap/detail/hold.hpp>
#include <filemap/detail/mapping.hpp>
#include <filemap/detail/platform.hpp>
#include <filemap/detail/snapshot.hpp>
#include <filemap/detail/spin.hpp>
#include <filemap/detail/type_record.hpp>
#include <filemap/detail/wake.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace filemap {

/// One object of type T shared by processes, by name. T is constructed once,
/// by the process that creates the object, and never destroyed (it must be
/// trivially destructible). Pointers and references inside T mean nothing
/// in another process; std::atomic<U> members work when lock-free. Moves
/// leave the source empty; every operation on an empty, closed or
/// moved-from Shared is bad_file_descriptor.
template <class T>
class Shared {
    static_assert(std::is_object_v<T> && !std::is_array_v<T> && !std::is_const_v<T> &&
                      !std::is_volatile_v<T>,
                  "Shared<T>: T is a plain class or scalar type");
    static_assert(std::is_standard_layout_v<T>,
                  "Shared<T>: T must be standard layout (its bytes are read by other programs)");
    static_assert(std::is_trivially_destructible_v<T>,
                  "Shared<T>: T must be trivially destructible (no process destroys it)");
    static_assert(alignof(T) <= 4096, "Shared<T>: T may be aligned to at most a page");
    static_assert(sizeof(T) <= 0x3FFFFFFF, "Shared<T>: T is at most 1 GiB");

    /// The forwarding overloads take anything but Options or an error_code
    /// first (those have overloads of their own).
    template <class First, class...>
    static constexpr bool plain_first =
        !std::is_same_v<First, Options> && !std::is_same_v<First, std::error_code>;
    template <class... Args>
    static constexpr bool plain_arguments = plain_first<std::remove_cvref_t<Args>..., void>;

    /// Whether T may be copied as bytes, as load() and store() do. The copy
    /// constructor counts too: clang 14 calls a T with std::atomic members
    /// trivially copyable, though it cannot be copied.
    static constexpr bool copyable_by_bytes =
        std::is_trivially_copyable_v<T> && std::is_copy_constructible_v<T>;

public:
    class Guard;

    /// An empty Shared: is_open() is false.
    Shared() noexcept = default;

    /// Creates the object and constructs its T from `args`. Fails as
    /// NamedMutex::create does (file_exists, invalid_argument for the name
    /// or Options, no_space_on_device). An exception from T's constructor
    /// propagates, and the name stays free. Throws std::system_error.
    template <class... Args>
    requires std::is_constructible_v<T, Args...>
    static Shared create(std::string_view name, const Options& options, Args&&... args)
    {
        return make(detail::Disposition::create, name, options, nullptr,
                    std::forward<Args>(args)...);
    }
    /// create() with default Options.
    template <class... Args>
    requires std::is_constructible_v<T, Args...> && plain_arguments<Args...>
    static Shared create(std::string_view name, Args&&... args)
    {
        return create(name, Options{}, std::forward<Args>(args)...);
    }
    /// create() of a default-constructed T, reporting a failure in `ec`.
    static Shared create(std::string_view name, const Options& options,
                         std::error_code& ec) requires std::is_default_constructible_v<T>
    {
        return make(detail::Disposition::create, name, options, &ec);
    }
    /// create() with default Options, reporting a failure in `ec`.
    static Shared create(std::string_view name,
                         std::error_code& ec) requires std::is_default_constructible_v<T>
    {
        return make(detail::Disposition::create, name, Options{}, &ec);
    }

    /// Opens the object, or creates it and constructs its T from `args`:
    /// created() says which. Among racing processes exactly one constructs.
    /// Fails as create() and open() do.
    template <class... Args>
    requires std::is_constructible_v<T, Args...>
    static Shared open_or_create(std::string_view name, const Options& options, Args&&... args)
    {
        return make(detail::Disposition::open_or_create, name, options, nullptr,
                    std::forward<Args>(args)...);
    }
    /// open_or_create() with default Options.
    template <class... Args>
    requires std::is_constructible_v<T, Args...> && plain_arguments<Args...>
    static Shared open_or_create(std::string_view name, Args&&... args)
    {
        return open_or_create(name, Options{}, std::forward<Args>(args)...);
    }
    /// open_or_create() of a default-constructed T, reporting a failure in `ec`.
    static Shared open_or_create(std::string_view name, const Options& options,
                                 std::error_code& ec) requires std::is_default_constructible_v<T>
    {
        return make(detail::Disposition::open_or_create, name, options, &ec);
    }
    /// open_or_create() with default Options, reporting a failure in `ec`.
    static Shared open_or_create(std::string_view name,
                                 std::error_code& ec) requires std::is_default_constructible_v<T>
    {
        return make(detail::Disposition::open_or_create, name, Options{}, &ec);
    }

    /// Opens an existing object. no_such_file_or_directory if there is none;
    /// invalid_argument if the name holds something else, or a T that
    /// differs from this program's in size, alignment, type tag or byte
    /// order (the message names the difference), or `access` is
    /// copy_on_write; timed_out if its creator never finished building it.
    /// read_only: load(), version() and wait_for_change() work, lock() and
    /// store() are permission_denied. Throws std::system_error.
    static Shared open(std::string_view name, Access access = Access::read_write)
    {
        return make(detail::Disposition::open, name, Options{access}, nullptr);
    }
    /// open() for reading and writing, reporting a failure in `ec`.
    static Shared open(std::string_view name, std::error_code& ec)
    {
        return make(detail::Disposition::open, name, Options{}, &ec);
    }
    /// open(), reporting a failure in `ec` (and returning an empty Shared).
    static Shared open(std::string_view name, Access access, std::error_code& ec)
    {
        return make(detail::Disposition::open, name, Options{access}, &ec);
    }

    /// Whether this holds an object; false when empty, closed or moved from.
    bool is_open() const noexcept { return block_.is_open(); }
    /// The name as given; "" when closed.
    std::string_view name() const noexcept { return block_.name(); }
    /// True if the call that made this Shared created the object (and constructed T).
    bool created() const noexcept { return block_.created(); }
    /// Lets go of the object (guards must end first); idempotent.
    void close() noexcept { block_.close(); }

    /// Blocks until this thread holds the object's lock, and returns a guard
    /// giving T& until it ends. Throws std::system_error:
    /// resource_deadlock_would_occur if this thread holds it already,
    /// permission_denied if opened read_only, bad_file_descriptor if closed.
    /// The Shared must outlive the guard and stay where it is meanwhile.
    Guard lock() { return Guard(*this, "lock", std::nullopt); }

    /// lock(), waiting at most `timeout`: the guard, or nullopt if the lock
    /// stayed held (by a live process: a dead holder is taken over within
    /// 20 ms). The bounded way to write: a peer may hold the lock as long as
    /// it likes. Fails as lock() does.
    template <class Rep, class Period>
    std::optional<Guard> try_lock_for(const std::chrono::duration<Rep, Period>& timeout)
    {
        Guard guard(*this, "try_lock_for", detail::deadline_after(timeout));
        if (!guard.hold_) {
            return std::nullopt;
        }
        return guard;
    }

    /// A copy of the current value, never torn, taken without the lock (a
    /// writer is never held up by it). A writer that dies at any point
    /// leaves a whole value to read. Throws std::system_error: timed_out if
    /// the value changed during every attempt for a second (writers that
    /// never pause for one copy of T, or a peer rewriting the version word),
    /// bad_file_descriptor if closed.
    T load() const requires copyable_by_bytes { return copy_of(block_.layout("load", noun)); }

    /// Makes `value` the value, under the lock, and wakes the processes in
    /// wait_for_change(). Fails as lock() does.
    void store(const T& value) requires copyable_by_bytes
    {
        Guard guard(*this, "store", std::nullopt);
        std::memcpy(static_cast<void*>(guard.value_), &value, sizeof(T));
        guard.changed_ = true; // a store always counts, even of the same value
    }

    /// The value's version: it changes with every store() and every guard
    /// that changed the value, and only then. 0 when closed.
    std::uint64_t version() const noexcept
    {
        return is_open() ? snapshot_of(block_.layout("version", noun)).version() : 0;
    }

    /// Returns true once version() differs from `seen` (at once if it does
    /// already), false when `timeout` passes first (nanoseconds::max():
    /// never). Sleeps in the kernel after a short spin; a read_only Shared
    /// cannot tell writers it sleeps and looks again every millisecond.
    /// Throws std::system_error with bad_file_descriptor if closed.
    bool wait_for_change(std::uint64_t seen, std::chrono::nanoseconds timeout) const
    {
        Layout& layout = block_.layout("wait_for_change", noun);
        const detail::Snapshot snapshot = snapshot_of(layout);
        const auto moved = [&] {
            return snapshot.version() != seen;
        };
        const detail::Deadline deadline = detail::deadline_after(timeout);
        detail::Wakeup& changed = block_.attached().changed;
        return block_.writable() ? changed.wait(layout.changed, moved, deadline)
                                 : changed.watch(layout.changed, moved, deadline);
    }

private:
    using Lock = detail::os::ProcessMutex;

    /// The shared header: fixed-width fields at the same offsets in 32- and
    /// 64-bit processes. The copies of T follow at data_offset.
    struct Layout {
        detail::BlockHeader header;
        detail::TypeRecord type;
        Lock::Slot lock;
        alignas(64) std::uint64_t version; // which copy is current; detail/snapshot.hpp
        detail::WakeSlot changed;          // wait_for_change sleeps here
    };
    static_assert(offsetof(Layout, type) == 24 && offsetof(Layout, lock) == 112 &&
                      offsetof(Layout, version) == 128 && sizeof(Layout) == 192,
                  "the same layout in every process, whatever its word size");

    /// Where the copies of T are: each on cache lines of its own, aligned for T.
    static constexpr std::size_t copy_alignment = alignof(T) > 64 ? alignof(T) : 64;
    static constexpr std::size_t round_up(std::size_t n) noexcept
    {
        return (n + copy_alignment - 1) / copy_alignment * copy_alignment;
    }
    static constexpr std::size_t data_offset = round_up(sizeof(Layout));
    static constexpr std::size_t stride = round_up(sizeof(T));
    static constexpr std::size_t object_size = data_offset + 3 * stride;
    static constexpr std::chrono::seconds load_patience{1};
    static constexpr const char* noun = "shared object";
    static constexpr detail::BlockKind kind{0x48534D46 /* "FMSH" */, 1, sizeof(Layout),
                                            sizeof(Layout), noun};

    struct Attached {
        Lock lock;
        detail::Wakeup changed;
    };

    static std::byte* data_of(Layout& layout) noexcept
    {
        return reinterpret_cast<std::byte*>(&layout) + data_offset;
    }
    /// The copy guards work on (plain memory, touched only under the lock).
    static T* work_of(Layout& layout) noexcept
    {
        return std::launder(reinterpret_cast<T*>(data_of(layout)));
    }
    /// The two copies load() reads.
    static detail::Snapshot snapshot_of(Layout& layout) noexcept
    {
        return detail::Snapshot(layout.version, data_of(layout) + stride, stride, sizeof(T));
    }

    /* load()'s copy, straight into the value returned: a copy through a
     * buffer would cost more than the load (8-byte stores do not forward to
     * the wider loads of a second copy). Every byte is written, so a T that
     * may start uninitialised is not zeroed first: stores bound a small
     * load(), and zeroing them first doubled them. One variable and one
     * return in each, or the compiler gives up returning in place. */
    T copy_of(Layout& layout) const requires std::is_trivially_default_constructible_v<T>
    {
        T value;
        read_into(layout, reinterpret_cast<std::byte*>(&value));
        return value;
    }
    T copy_of(Layout& layout) const
    {
        T value = std::bit_cast<T>(std::array<std::byte, sizeof(T)>{});
        read_into(layout, reinterpret_cast<std::byte*>(&value));
        return value;
    }

    /// Copies the current value to `into`: load() without the T.
    void read_into(Layout& layout, std::byte* into) const
    {
        if (!snapshot_of(layout).try_read(into)) [[unlikely]] { // a writer overwrote it meanwhile
            load_again(layout, into);
        }
    }

    /// load() after a first attempt failed: tries again for load_patience,
    /// then throws timed_out. Out of line, so that load() stays small.
    [[gnu::noinline]] void load_again(Layout& layout, std::byte* into) const
    {
        const detail::Snapshot snapshot = snapshot_of(layout);
        const auto give_up = detail::Clock::now() + load_patience;
        for (unsigned attempt = 1;; ++attempt) {
            detail::spin_pause();
            if (snapshot.try_read(into)) {
                return;
            }
            if (attempt % 64 == 0 && detail::Clock::now() >= give_up) {
                detail::throw_error("load", name(), std::errc::timed_out,
                                    "the value changed during every read for a second");
            }
        }
    }

    template <class... Args>
    static Shared make(detail::Disposition disposition, std::string_view name,
                       const Options& options, std::error_code* ec, Args&&... args)
    {
        const detail::NamedRequest request{disposition, name, object_size, options, 0};
        std::exception_ptr thrown; // from T's constructor, rethrown as it was
        Shared made = detail::dispatch(
            detail::operation_name(disposition), name, ec, [&](detail::Error& error) {
                Shared shared;
                if (disposition == detail::Disposition::open &&
                    options.access == Access::copy_on_write) {
                    error.set(std::errc::invalid_argument,
                              "a private copy of a shared object shares nothing: open it "
                              "read_only or read_write");
                    return shared;
                }
                shared.block_ = attach_block(request, error, thrown, std::forward<Args>(args)...);
                return shared;
            });
        if (thrown) {
            std::rethrow_exception(thrown);
        }
        return made;
    }

    template <class... Args>
    static auto attach_block(const detail::NamedRequest& request, detail::Error& error,
                             std::exception_ptr& thrown, Args&&... args)
    {
        const std::string lock_name = detail::derived_name(request.name, "lock");
        const std::string changed_name = detail::derived_name(request.name, "changed");
        const auto build = [&](Layout& layout, Attached&, detail::Error& failure) {
            layout.type = detail::type_record_of<T>();
            Lock::attach(layout.lock, lock_name, true, failure);
            if (failure) {
                return false;
            }
            try {
                if constexpr (std::is_constructible_v<T, Args...>) {
                    ::new (static_cast<void*>(data_of(layout))) T(std::forward<Args>(args)...);
                } // else this is open(), which never builds (and T need not be
                  // default-constructible)
            } catch (...) {
                thrown = std::current_exception();
                failure.set(std::errc::operation_canceled, "T's constructor threw");
                return false;
            }
            if constexpr (copyable_by_bytes) {
                snapshot_of(layout).publish(data_of(layout)); // version 1: the constructed T
            }
            return true;
        };
        const auto attach = [&](Layout& layout, std::size_t mapped, Attached& attached,
                                detail::Error& failure) {
            detail::TypeRecord found;
            detail::load_words(reinterpret_cast<std::byte*>(&found),
                               reinterpret_cast<std::byte*>(&layout.type), sizeof found);
            if (const std::string mismatch =
                    detail::type_mismatch(found, detail::type_record_of<T>());
                !mismatch.empty()) {
                failure.set(std::errc::invalid_argument, mismatch);
                return false;
            }
            if (mapped < object_size) {
                failure.set(std::errc::invalid_argument,
                            "the object is " + std::to_string(mapped) + " bytes, too small for " +
                                "three copies of its T: " + std::to_string(object_size));
                return false;
            }
            if (Block::access_of(request) == Access::read_write) {
                attached.lock = Lock::attach(layout.lock, lock_name, false, failure);
            }
            attached.changed = detail::Wakeup::attach(changed_name, failure);
            return !failure;
        };
        return Block::make(request, kind, object_size, build, attach, error);
    }

    using Block = detail::Block<Layout, Attached>;
    // The shared bytes are not this handle's state: const members read and
    // wait on them too.
    mutable Block block_;
};

/// Holds a Shared<T>'s lock and gives its T, for read-modify-write. When it
/// ends, a changed value becomes the value load() returns, its version moves
/// and watchers wake; then the lock is released. Movable (the lock goes with
/// it), not copyable; it must end before the Shared does, in the thread
/// that took it.
template <class T>
class Shared<T>::Guard {
public:
    /// The shared T; only this guard's thread may touch it until the guard ends.
    T& operator*() const noexcept { return *value_; }
    /// The shared T's members.
    T* operator->() const noexcept { return value_; }
    /// True if the lock was taken from a holder that died holding it (the
    /// value may be half-updated: repair it), or that died after changing
    /// the value but before publishing it (the change is published when this
    /// guard ends).
    bool previous_owner_died() const noexcept { return hold_.owner_died(); }

    /// Takes over `other`'s lock; `other` then holds nothing.
    Guard(Guard&&) noexcept = default;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    Guard& operator=(Guard&&) = delete;

    /// Publishes the value if it changed, then unlocks.
    ~Guard()
    {
        if (!hold_) {
            return; // moved from, or never locked
        }
        if constexpr (copyable_by_bytes) {
            detail::Snapshot snapshot = snapshot_of(*layout_);
            if (changed_ || std::memcmp(value_, snapshot.current(), sizeof(T)) != 0) {
                snapshot.publish(reinterpret_cast<const std::byte*>(value_));
                shared_->block_.attached().changed.notify(layout_->changed);
            }
        } else {
            // No second copy to compare with: every guard counts as a change.
            detail::Atomic64(layout_->version)
                .store(snapshot_of(*layout_).version() + 1, std::memory_order_release);
            shared_->block_.attached().changed.notify(layout_->changed);
        }
    }

private:
    friend class Shared;

    Guard(Shared& shared, const char* operation, const detail::Deadline& deadline)
        : shared_(&shared), layout_(&writable_layout(shared, operation)),
          hold_(shared.block_.attached().lock, layout_->lock, operation, shared.name(), deadline),
          value_(work_of(*layout_))
    {
    }

    static Layout& writable_layout(Shared& shared, const char* operation)
    {
        Layout& layout = shared.block_.layout(operation, noun);
        if (!shared.block_.writable()) {
            detail::throw_error(operation, shared.name(), std::errc::permission_denied,
                                "the shared object was opened read_only");
        }
        return layout;
    }

    Shared* shared_;
    Layout* layout_;
    detail::Hold hold_;
    T* value_;
    bool changed_ = false;
};

} // namespace filemap
