// filemap/named_mutex.hpp - NamedMutex: a mutex shared by processes, by name.
//
// Lockable (std::lock_guard, std::unique_lock, std::scoped_lock), with
// try_lock and try_lock_for. Named, created and opened like a FileMapping
// (same name rules, Options, lifetimes and error model). Robust: when a
// process dies holding it, the next lock succeeds and previous_owner_died()
// says that the data it guards may be half-updated.
#pragma once

#include <filemap/detail/shared_block.hpp>
#include <filemap/detail/sync.hpp>
#include <filemap/error.hpp>
#include <filemap/file_mapping.hpp>
#include <filemap/options.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace filemap {

class NamedMutex {
public:
    /// An empty mutex: is_open() is false.
    NamedMutex() noexcept = default;
    NamedMutex(NamedMutex&&) noexcept = default;
    NamedMutex& operator=(NamedMutex&&) noexcept = default;

    /// Creates a new mutex; file_exists if the name is live.
    static NamedMutex create(std::string_view name, const Options& options = {})
    {
        return detail::or_throw("create", name, [&](detail::Error& error) {
            return make(Disposition::create, name, options, error);
        });
    }
    static NamedMutex create(std::string_view name, const Options& options, std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) {
            return make(Disposition::create, name, options, error);
        });
    }
    static NamedMutex create(std::string_view name, std::error_code& ec)
    {
        return create(name, Options{}, ec);
    }

    /// Opens an existing mutex; no_such_file_or_directory if there is none,
    /// invalid_argument if the name holds something else.
    static NamedMutex open(std::string_view name)
    {
        return detail::or_throw("open", name, [&](detail::Error& error) {
            return make(Disposition::open, name, Options{}, error);
        });
    }
    static NamedMutex open(std::string_view name, std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) {
            return make(Disposition::open, name, Options{}, error);
        });
    }

    static NamedMutex open_or_create(std::string_view name, const Options& options = {})
    {
        return detail::or_throw("open_or_create", name, [&](detail::Error& error) {
            return make(Disposition::open_or_create, name, options, error);
        });
    }
    static NamedMutex open_or_create(std::string_view name, const Options& options,
                                     std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) {
            return make(Disposition::open_or_create, name, options, error);
        });
    }
    static NamedMutex open_or_create(std::string_view name, std::error_code& ec)
    {
        return open_or_create(name, Options{}, ec);
    }

    /// Blocks until this process holds the mutex.
    void lock() { acquire("lock", std::nullopt); }
    /// Takes the mutex if it is free; never blocks.
    bool try_lock() { return acquire("try_lock", detail::Clock::now()); }
    /// Takes the mutex if it becomes free within `timeout`.
    template <class Rep, class Period>
    bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout)
    {
        return acquire("try_lock_for", detail::deadline_after(timeout));
    }
    void unlock() { mutex_.unlock(); }

    /// True if the last acquisition recovered the mutex from a process that
    /// died holding it: what it guards may be half-updated.
    bool previous_owner_died() const noexcept { return previous_owner_died_; }

    bool is_open() const noexcept { return mapping_.is_open(); }
    std::string_view name() const noexcept { return mapping_.name(); }

private:
    using Disposition = detail::BlockAccess::Disposition;

    struct Block {
        detail::BlockHeader header;
        detail::MutexSlot mutex;
    };
    static constexpr std::uint32_t magic = 0x584D4D46; // "FMMX"

    static NamedMutex make(Disposition disposition, std::string_view name, const Options& options,
                           detail::Error& error)
    {
        const auto build = [&](FileMapping& mapping, detail::Error& failure) {
            detail::SharedMutex::make(block_of(mapping).mutex, lock_name(name), true, failure);
            return !failure;
        };
        NamedMutex made;
        made.mapping_ = detail::BlockAccess::map(disposition, name, sizeof(Block), options, magic,
                                                 1, sizeof(Block), build, error);
        if (!error) {
            made.mutex_ = detail::SharedMutex::make(block_of(made.mapping_).mutex, lock_name(name),
                                                    false, error);
        }
        return error ? NamedMutex{} : std::move(made);
    }

    static Block& block_of(FileMapping& mapping) { return mapping.as_span<Block>(0, 1)[0]; }
    static std::string lock_name(std::string_view name) { return std::string(name) + "#lock"; }

    bool acquire(const char* operation, const detail::Deadline& deadline)
    {
        detail::Error error;
        const detail::Locked result = mutex_.lock(deadline, error);
        if (error) {
            detail::throw_error(operation, name(), error);
        }
        if (result == detail::Locked::timed_out) {
            return false;
        }
        previous_owner_died_ = result == detail::Locked::owner_died;
        return true;
    }

    FileMapping mapping_;
    detail::SharedMutex mutex_;
    bool previous_owner_died_ = false;
};

} // namespace filemap
