// filemap/file_mapping.hpp - FileMapping: one mapped shared memory object or file.
//
// An RAII owner of one native handle and one view of it. Named shared memory
// (create / open / open_or_create / remove), unnamed memory shared with child
// processes by handle inheritance, and files on disk. Every static function
// comes in a throwing form (std::system_error) and a std::error_code& form;
// both wrap one implementation. The typed read/write API is bounds-checked
// (detail::MappedAccess). Contains no platform code: see detail/.
#pragma once

#include <filemap/detail/mapped_access.hpp>
#include <filemap/detail/platform.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>
#include <filemap/typed_access.hpp>
#include <filemap/view.hpp>

#include <algorithm>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace filemap {

namespace detail {
struct BlockAccess;
}

class FileMapping : public detail::MappedAccess<FileMapping> {
public:
    /// int (a file descriptor) on POSIX, HANDLE on Windows.
    using native_handle_type = detail::native_handle_type;

    /// An empty mapping: is_open() is false.
    FileMapping() noexcept = default;
    /// Takes over `other`, which is left empty.
    FileMapping(FileMapping&& other) noexcept { swap(other); }
    /// Closes what this held, then takes over `other`, which is left empty.
    FileMapping& operator=(FileMapping&& other) noexcept
    {
        if (this != &other) {
            close();
            swap(other);
        }
        return *this;
    }
    FileMapping(const FileMapping&) = delete;
    FileMapping& operator=(const FileMapping&) = delete;
    /// Unmaps and closes; with a scoped lifetime, the last handle in any
    /// process also removes the name. Never throws.
    ~FileMapping() = default;

    void swap(FileMapping& other) noexcept
    {
        handle_.swap(other.handle_);
        region_.swap(other.region_);
        name_.swap(other.name_);
        std::swap(access_, other.access_);
        std::swap(created_, other.created_);
    }

    // ---- named shared memory ---------------------------------------------

    /// Creates a new object of exactly `size` zeroed bytes. Fails with
    /// file_exists if a live object has the name (a stale scoped one, left by
    /// crashed processes, is reclaimed), invalid_argument for size 0 or a name
    /// outside the rules, no_space_on_device if the memory cannot be reserved.
    static FileMapping create(std::string_view name, std::size_t size, const Options& options = {})
    {
        return detail::or_throw("create", name, [&](detail::Error& error) {
            return make_named(Disposition::create, name, size, options, error);
        });
    }
    static FileMapping create(std::string_view name, std::size_t size, const Options& options,
                              std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) {
            return make_named(Disposition::create, name, size, options, error);
        });
    }
    static FileMapping create(std::string_view name, std::size_t size, std::error_code& ec)
    {
        return create(name, size, Options{}, ec);
    }

    /// Opens an existing object, whole; never creates. A missing name is
    /// no_such_file_or_directory. size() is the size its creator asked for.
    static FileMapping open(std::string_view name, Access access = Access::read_write)
    {
        return detail::or_throw("open", name, [&](detail::Error& error) {
            return make_named(Disposition::open, name, 0, Options{access}, error);
        });
    }
    static FileMapping open(std::string_view name, Access access, std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) {
            return make_named(Disposition::open, name, 0, Options{access}, error);
        });
    }
    static FileMapping open(std::string_view name, std::error_code& ec)
    {
        return open(name, Access::read_write, ec);
    }

    /// Opens the object if it exists, else creates it; created() says which.
    /// An existing object smaller than `size` is result_out_of_range (never
    /// less memory than the caller will use); a larger one opens whole. An
    /// existing object of another user that lets others in is
    /// permission_denied: a name squatted to read what we would write.
    static FileMapping open_or_create(std::string_view name, std::size_t size,
                                      const Options& options = {})
    {
        return detail::or_throw("open_or_create", name, [&](detail::Error& error) {
            return make_named(Disposition::open_or_create, name, size, options, error);
        });
    }
    static FileMapping open_or_create(std::string_view name, std::size_t size,
                                      const Options& options, std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) {
            return make_named(Disposition::open_or_create, name, size, options, error);
        });
    }
    static FileMapping open_or_create(std::string_view name, std::size_t size, std::error_code& ec)
    {
        return open_or_create(name, size, Options{}, ec);
    }

    /// Removes the name now; processes that hold the object keep their
    /// memory. Returns false if there was no such name. Windows: not_supported.
    static bool remove(std::string_view name)
    {
        return detail::or_throw("remove", name,
                                [&](detail::Error& error) { return remove_named(name, error); });
    }
    static bool remove(std::string_view name, std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) { return remove_named(name, error); });
    }

    // ---- unnamed shared memory -------------------------------------------

    /// Unnamed zeroed memory of `size` bytes, to share with child processes:
    /// make it inheritable and pass native_handle() to the child, which calls
    /// from_native_handle().
    static FileMapping anonymous(std::size_t size)
    {
        return detail::or_throw("anonymous", "",
                                [&](detail::Error& error) { return make_anonymous(size, error); });
    }
    static FileMapping anonymous(std::size_t size, std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) { return make_anonymous(size, error); });
    }

    /// Maps the whole object behind `handle` and takes ownership of the
    /// handle; on failure the caller keeps it.
    static FileMapping from_native_handle(native_handle_type handle,
                                          Access access = Access::read_write)
    {
        return detail::or_throw("from_native_handle", "",
                                [&](detail::Error& error) { return adopt(handle, access, error); });
    }
    static FileMapping from_native_handle(native_handle_type handle, Access access,
                                          std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) { return adopt(handle, access, error); });
    }
    static FileMapping from_native_handle(native_handle_type handle, std::error_code& ec)
    {
        return from_native_handle(handle, Access::read_write, ec);
    }

    /// Whether child processes started from now on inherit native_handle().
    void set_inheritable(bool inheritable)
    {
        detail::or_throw("set_inheritable", name_,
                         [&](detail::Error& error) { return inherit(inheritable, error); });
    }
    void set_inheritable(bool inheritable, std::error_code& ec)
    {
        detail::into(ec, [&](detail::Error& error) { return inherit(inheritable, error); });
    }

    // ---- files -----------------------------------------------------------

    /// Maps the file at `path`; never creates it (no_such_file_or_directory).
    /// size 0 maps the whole file (an empty file is invalid_argument); a
    /// larger size grows the file with read_write access and is
    /// result_out_of_range otherwise.
    static FileMapping map_file(const std::filesystem::path& path,
                                Access access = Access::read_only, std::size_t size = 0)
    {
        return detail::or_throw("map_file", display(path), [&](detail::Error& error) {
            return make_file(path, access, size, error);
        });
    }
    static FileMapping map_file(const std::filesystem::path& path, Access access, std::size_t size,
                                std::error_code& ec)
    {
        return detail::into(
            ec, [&](detail::Error& error) { return make_file(path, access, size, error); });
    }
    static FileMapping map_file(const std::filesystem::path& path, Access access,
                                std::error_code& ec)
    {
        return map_file(path, access, 0, ec);
    }
    static FileMapping map_file(const std::filesystem::path& path, std::error_code& ec)
    {
        return map_file(path, Access::read_only, 0, ec);
    }

    // ---- state -----------------------------------------------------------

    bool is_open() const noexcept { return region_.data() != nullptr; }
    explicit operator bool() const noexcept { return is_open(); }
    /// Bytes mapped; 0 when empty.
    std::size_t size() const noexcept { return region_.size(); }
    /// The name as given (the path for files); "" when unnamed or empty.
    std::string_view name() const noexcept { return name_; }
    Access access() const noexcept { return access_; }
    /// True if the call that made this mapping created the object.
    bool created() const noexcept { return created_; }
    native_handle_type native_handle() const noexcept { return handle_.get(); }

    /// The whole view, zero-copy. The one door around the access checks:
    /// writing here through a read_only mapping faults.
    std::span<std::byte> bytes() noexcept { return {region_.data(), region_.size()}; }
    std::span<const std::byte> bytes() const noexcept { return {region_.data(), region_.size()}; }

    // ---- views and hints ---------------------------------------------------

    /// Maps exactly [offset, offset + length) of the object again, with this
    /// mapping's access or a narrower one. A window outside the object is
    /// result_out_of_range, length 0 invalid_argument, write access through
    /// a read-only mapping permission_denied. The View keeps the object (and
    /// a scoped name) alive on its own.
    View view(std::size_t offset, std::size_t length) const
    {
        return view(offset, length, access_);
    }
    View view(std::size_t offset, std::size_t length, Access access) const
    {
        return detail::or_throw("view", name_, [&](detail::Error& error) {
            return make_view(offset, length, access, error);
        });
    }
    View view(std::size_t offset, std::size_t length, Access access, std::error_code& ec) const
    {
        return detail::into(
            ec, [&](detail::Error& error) { return make_view(offset, length, access, error); });
    }

    /// Unmaps and closes; idempotent. The mapping is empty afterwards.
    void close() noexcept
    {
        region_.reset(); // first: a live mapping would keep the object's locks
        handle_.close();
        name_.clear();
        access_ = Access::read_write;
        created_ = false;
    }

private:
    friend struct detail::BlockAccess; // NamedMutex and Channel build on make_named
    friend class detail::MappedAccess<FileMapping>;

    enum class Disposition { create, open, open_or_create };

    FileMapping(detail::Handle handle, detail::Region view, std::string name, Access access,
                bool created) noexcept
        : handle_(std::move(handle)), region_(std::move(view)), name_(std::move(name)),
          access_(access), created_(created)
    {
    }

    static std::string display(const std::filesystem::path& path)
    {
        const auto text = path.u8string();
        return {text.begin(), text.end()};
    }

    /// Maps all `size` bytes of `handle` into a FileMapping, which takes the
    /// handle on success only.
    static FileMapping map(detail::Handle& handle, std::size_t size, Access access, bool prefault,
                           std::string name, bool created, detail::Error& error,
                           bool huge_pages = false)
    {
        detail::Region view =
            detail::map_view(handle, 0, size, access, prefault, error, huge_pages);
        if (error) {
            return {};
        }
        return FileMapping(std::move(handle), std::move(view), std::move(name), access, created);
    }

    static bool check_new(std::size_t size, const Options& options, detail::Error& error)
    {
        if (size == 0) {
            error.set(std::errc::invalid_argument, "size must be at least 1 byte");
            return false;
        }
        if ((options.permissions & ~std::filesystem::perms::all) != std::filesystem::perms::none) {
            error.set(std::errc::invalid_argument,
                      "permissions may hold only read, write and execute bits");
            return false;
        }
        return true;
    }

    static FileMapping make_named(Disposition disposition, std::string_view name, std::size_t size,
                                  const Options& options, detail::Error& error)
    {
        const detail::Name parsed = detail::parse_name(name, error);
        if (error || (disposition != Disposition::open && !check_new(size, options, error))) {
            return {};
        }
        bool created = disposition == Disposition::create;
        detail::Handle handle;
        switch (disposition) {
        case Disposition::create:
            handle = detail::create_named(parsed, size, options, error);
            break;
        case Disposition::open: handle = detail::open_named(parsed, options.access, error); break;
        case Disposition::open_or_create:
            handle = detail::open_or_create_named(parsed, size, options, created, error);
            break;
        }
        if (error) {
            return {};
        }
        if (!created) {
            const std::size_t existing = detail::object_size(handle, error);
            if (error) {
                return {};
            }
            if (existing < size) {
                error.set(std::errc::result_out_of_range,
                          "the object is " + std::to_string(existing) + " bytes, asked for " +
                              std::to_string(size));
                return {};
            }
            if (disposition == Disposition::open_or_create && detail::exposed_to_others(handle)) {
                error.set(std::errc::permission_denied,
                          "the object belongs to another user and lets others in");
                return {};
            }
            size = existing;
        }
        return map(handle, size, options.access, options.prefault, std::string(name), created,
                   error, options.huge_pages);
    }

    static bool remove_named(std::string_view name, detail::Error& error)
    {
        const detail::Name parsed = detail::parse_name(name, error);
        return !error && detail::remove_named(parsed, error);
    }

    static FileMapping make_anonymous(std::size_t size, detail::Error& error)
    {
        if (!check_new(size, Options{}, error)) {
            return {};
        }
        detail::Handle handle = detail::create_anonymous(size, error);
        if (error) {
            return {};
        }
        return map(handle, size, Access::read_write, false, {}, true, error);
    }

    static FileMapping adopt(native_handle_type native, Access access, detail::Error& error)
    {
        detail::check_native(native, error);
        if (error) {
            return {};
        }
        detail::Handle handle(native);
        const std::size_t size = detail::object_size(handle, error);
        if (!error && size == 0) {
            error.set(std::errc::invalid_argument, "the object is empty (0 bytes)");
        }
        FileMapping mapping;
        if (!error) {
            mapping = map(handle, size, access, false, {}, false, error);
        }
        if (error) {
            handle.release(); // the caller keeps what it gave us
        }
        return mapping;
    }

    static FileMapping make_file(const std::filesystem::path& path, Access access, std::size_t size,
                                 detail::Error& error)
    {
        detail::Handle handle = detail::open_file(path, access, size, error);
        if (error) {
            return {};
        }
        return map(handle, size, access, false, display(path), false, error);
    }

    View make_view(std::size_t offset, std::size_t length, Access access,
                   detail::Error& error) const
    {
        if (!is_open()) {
            error.set(std::errc::bad_file_descriptor, "the mapping is closed");
        } else if (length == 0) {
            error.set(std::errc::invalid_argument, "a view needs at least 1 byte");
        } else if (offset > size() || length > size() - offset) {
            error.set(std::errc::result_out_of_range,
                      std::to_string(length) + " bytes at offset " + std::to_string(offset) +
                          " do not fit in " + std::to_string(size()) + " bytes");
        } else if (access_ != Access::read_write && access == Access::read_write) {
            error.set(std::errc::permission_denied, "the mapping is not writable");
        }
        if (error) {
            return {};
        }
        // A file or object that another process shrank since we mapped it
        // would fault (SIGBUS) on first touch of the new view: refuse it.
        if (const std::size_t now = detail::object_size(handle_, error);
            !error && length > now - std::min(offset, now)) {
            error.set(std::errc::result_out_of_range,
                      "the object is now " + std::to_string(now) + " bytes, smaller than " +
                          std::to_string(offset + length) + " mapped bytes need");
        }
        if (error) {
            return {};
        }
        detail::Handle handle = detail::duplicate_handle(handle_, error);
        detail::Region region =
            error ? detail::Region{}
                  : detail::map_view(handle_, offset, length, access, false, error);
        if (error) {
            return {};
        }
        return View(std::move(handle), std::move(region), name_, offset, access);
    }

    bool inherit(bool inheritable, detail::Error& error)
    {
        if (!is_open()) {
            error.set(std::errc::bad_file_descriptor, "the mapping is closed");
            return false;
        }
        detail::set_inheritable(handle_, inheritable, error);
        return !error;
    }

    detail::Handle handle_; // destroyed last: a scoped handle's close needs the region gone
    detail::Region region_;
    std::string name_;
    Access access_ = Access::read_write;
    bool created_ = false;
};

} // namespace filemap
