// filemap/file_mapping.hpp - FileMapping: one mapped shared memory object or file.
//
// An RAII owner of one native handle and one view of it (a detail::Mapping).
// Named shared memory (create / open / open_or_create / remove), unnamed
// memory shared with child processes by handle inheritance, and files on
// disk. Every static function comes in a throwing form (std::system_error)
// and a std::error_code& form, both over one implementation. The typed,
// bounds-checked read/write API is detail::Window's. No platform code here.
#pragma once

#include <filemap/detail/factory.hpp>
#include <filemap/detail/mapping.hpp>
#include <filemap/detail/window.hpp>
#include <filemap/error.hpp>
#include <filemap/options.hpp>
#include <filemap/view.hpp>

#include <cstddef>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

namespace filemap {

/// A mapped shared memory object or file. Moves leave the source empty; the
/// destructor unmaps and closes and, with a scoped lifetime, the last handle
/// in any process also removes the name. Never throws from close or the
/// destructor. create() and open_or_create() come from NamedFactory, with
/// the size in bytes after the name.
class FileMapping : public detail::Window, public detail::NamedFactory<FileMapping, std::size_t> {
public:
    /// int (a file descriptor) on POSIX, HANDLE on Windows.
    using native_handle_type = detail::os::Handle::native_handle_type;

    /// An empty mapping: is_open() is false.
    FileMapping() noexcept = default;

    // ---- named shared memory ------------------------------------------------
    // create() and open_or_create(): see detail::NamedFactory.

    /// Opens an existing object, whole; never creates. Fails with
    /// no_such_file_or_directory for a missing name, invalid_argument for a
    /// name outside the rules, permission_denied where the object's
    /// permissions refuse `access`. size() is the size its creator asked for.
    /// Throws std::system_error.
    static FileMapping open(std::string_view name, Access access = Access::read_write)
    {
        return invoke(detail::Disposition::open, name, Options{access}, nullptr);
    }
    /// open(), reporting a failure in `ec` (and returning an empty mapping).
    static FileMapping open(std::string_view name, Access access, std::error_code& ec)
    {
        return invoke(detail::Disposition::open, name, Options{access}, &ec);
    }
    /// open() for reading and writing, reporting a failure in `ec`.
    static FileMapping open(std::string_view name, std::error_code& ec)
    {
        return open(name, Access::read_write, ec);
    }

    /// Removes the name now; processes that hold the object keep their
    /// memory. Returns false if there was no such name. Fails with
    /// invalid_argument for a name outside the rules, permission_denied for
    /// another user's object, and on Windows not_supported (names live
    /// exactly as long as their handles). Throws std::system_error.
    static bool remove(std::string_view name) { return remove(name, nullptr); }
    /// remove(), reporting a failure in `ec` (and returning false).
    static bool remove(std::string_view name, std::error_code& ec) { return remove(name, &ec); }

    // ---- unnamed shared memory ------------------------------------------------

    /// Unnamed zeroed memory of `size` bytes, to share with child processes:
    /// make it inheritable and pass native_handle() to the child, which
    /// calls from_native_handle(). invalid_argument for size 0. Throws
    /// std::system_error.
    static FileMapping anonymous(std::size_t size) { return anonymous(size, nullptr); }
    /// anonymous(), reporting a failure in `ec` (and returning an empty mapping).
    static FileMapping anonymous(std::size_t size, std::error_code& ec)
    {
        return anonymous(size, &ec);
    }

    /// Maps the whole object behind `handle` and takes ownership of the
    /// handle on success only: on failure the caller keeps it.
    /// bad_file_descriptor for a handle that is not open, invalid_argument
    /// for one that cannot be mapped or is empty. Throws std::system_error.
    static FileMapping from_native_handle(native_handle_type handle,
                                          Access access = Access::read_write)
    {
        return from_native_handle(handle, access, nullptr);
    }
    /// from_native_handle(), reporting a failure in `ec`.
    static FileMapping from_native_handle(native_handle_type handle, Access access,
                                          std::error_code& ec)
    {
        return from_native_handle(handle, access, &ec);
    }
    /// from_native_handle() for reading and writing, reporting a failure in `ec`.
    static FileMapping from_native_handle(native_handle_type handle, std::error_code& ec)
    {
        return from_native_handle(handle, Access::read_write, &ec);
    }

    /// Whether child processes started from now on inherit native_handle().
    /// bad_file_descriptor if closed. Throws std::system_error.
    void set_inheritable(bool inheritable) { set_inheritable(inheritable, nullptr); }
    /// set_inheritable(), reporting a failure in `ec`.
    void set_inheritable(bool inheritable, std::error_code& ec)
    {
        set_inheritable(inheritable, &ec);
    }

    // ---- files ------------------------------------------------------------------

    /// Maps the file at `path`; never creates it (no_such_file_or_directory).
    /// size 0 maps the whole file (an empty file is invalid_argument); a
    /// larger size grows the file with read_write access and is
    /// result_out_of_range otherwise; a directory is invalid_argument.
    /// Throws std::system_error.
    static FileMapping map_file(const std::filesystem::path& path,
                                Access access = Access::read_only, std::size_t size = 0)
    {
        return map_file(path, access, size, nullptr);
    }
    /// map_file(), reporting a failure in `ec` (and returning an empty mapping).
    static FileMapping map_file(const std::filesystem::path& path, Access access, std::size_t size,
                                std::error_code& ec)
    {
        return map_file(path, access, size, &ec);
    }
    /// map_file() of the whole file, reporting a failure in `ec`.
    static FileMapping map_file(const std::filesystem::path& path, Access access,
                                std::error_code& ec)
    {
        return map_file(path, access, 0, &ec);
    }
    /// map_file() of the whole file, read-only, reporting a failure in `ec`.
    static FileMapping map_file(const std::filesystem::path& path, std::error_code& ec)
    {
        return map_file(path, Access::read_only, 0, &ec);
    }
    /// map_file() that may grow: address space for `options.max_size` bytes
    /// is kept, and grow() extends the file (refresh() follows a file that
    /// others extend). Of `options`, max_size and prefault apply; `access`
    /// is the argument's. Fails as map_file() does, and with
    /// invalid_argument if the file or `size` is beyond max_size, and on
    /// Windows not_supported (a file's section cannot grow in place).
    /// Throws std::system_error.
    static FileMapping map_file(const std::filesystem::path& path, Access access, std::size_t size,
                                const Options& options)
    {
        return map_file(path, access, size, options, nullptr);
    }
    /// The growable map_file(), reporting a failure in `ec`.
    static FileMapping map_file(const std::filesystem::path& path, Access access, std::size_t size,
                                const Options& options, std::error_code& ec)
    {
        return map_file(path, access, size, options, &ec);
    }

    // ---- growth ---------------------------------------------------------------------

    /// Makes the object at least `new_size` bytes and maps the new ones here,
    /// zeroed and backed; every address and span taken before stays valid,
    /// and other processes see the bytes after their refresh(). A size not
    /// above size() changes nothing (objects never shrink). Fails with
    /// result_out_of_range beyond max_size() (or size() for a fixed
    /// mapping), permission_denied unless read_write, no_space_on_device
    /// or not_enough_memory when the memory or disk cannot back it (here,
    /// never as a fault later), bad_file_descriptor if closed; on failure
    /// the size is unchanged. Throws std::system_error.
    void grow(std::size_t new_size) { grow(new_size, nullptr); }
    /// grow(), reporting a failure in `ec`.
    void grow(std::size_t new_size, std::error_code& ec) { grow(new_size, &ec); }

    /// Maps what other processes have grown the object to, up to
    /// max_size(), and returns size(); a fixed mapping returns its size.
    /// Addresses stay valid. On Windows sizes that others grow to are seen
    /// rounded up to a page (the extra bytes are zero). Fails with
    /// bad_file_descriptor if closed, not_enough_memory if the pages cannot
    /// be mapped. Throws std::system_error.
    std::size_t refresh() { return refresh(nullptr); }
    /// refresh(), reporting a failure in `ec` (and returning size()).
    std::size_t refresh(std::error_code& ec) { return refresh(&ec); }

    /// The most this mapping may grow to, as its creator set it (an opener
    /// on Windows sees it rounded up to a page); 0 for a fixed-size one.
    std::size_t max_size() const noexcept { return mapping_.max_size(); }

    // ---- state --------------------------------------------------------------------

    /// True if the call that made this mapping created the object.
    bool created() const noexcept { return mapping_.created(); }
    /// The native handle, still owned by this mapping; invalid when closed.
    native_handle_type native_handle() const noexcept { return mapping_.handle().native(); }

    // ---- views ----------------------------------------------------------------------

    /// Maps exactly [offset, offset + length) of the object again, with this
    /// mapping's access. result_out_of_range for a window outside the object
    /// (also when another process shrank it; for a growable mapping, beyond
    /// this handle's size() until a refresh() maps more), invalid_argument for length 0,
    /// bad_file_descriptor if closed. The View keeps the object (and a
    /// scoped name) alive on its own. Throws std::system_error.
    View view(std::size_t offset, std::size_t length) { return view(offset, length, access()); }
    /// view() with `access`, which may narrow this mapping's (read_write
    /// through a read-only mapping is permission_denied).
    View view(std::size_t offset, std::size_t length, Access access)
    {
        return make_view(offset, length, access, nullptr);
    }
    /// view() with `access`, reporting a failure in `ec`.
    View view(std::size_t offset, std::size_t length, Access access, std::error_code& ec)
    {
        return make_view(offset, length, access, &ec);
    }
    /// A read-only view of a const mapping: const means no writes through
    /// anything it hands out. Fails as view() does.
    View view(std::size_t offset, std::size_t length) const
    {
        return view(offset, length, Access::read_only);
    }
    /// A view of a const mapping with `access`: read_write is
    /// permission_denied, read_only and copy_on_write are fine.
    View view(std::size_t offset, std::size_t length, Access access) const
    {
        return make_view(offset, length, access, nullptr);
    }
    /// The const view() with `access`, reporting a failure in `ec`.
    View view(std::size_t offset, std::size_t length, Access access, std::error_code& ec) const
    {
        return make_view(offset, length, access, &ec);
    }

private:
    friend class detail::NamedFactory<FileMapping, std::size_t>;

    explicit FileMapping(detail::Mapping mapping) noexcept : Window(std::move(mapping)) {}

    static FileMapping make(const detail::NamedRequest& request, detail::Error& error)
    {
        return FileMapping(detail::Mapping::named(request, error));
    }

    static bool remove(std::string_view name, std::error_code* ec)
    {
        return detail::dispatch("remove", name, ec, [&](detail::Error& error) {
            const detail::Name parsed = detail::parse_name(name, error);
            return !error && detail::os::remove_named(parsed, error);
        });
    }

    static FileMapping anonymous(std::size_t size, std::error_code* ec)
    {
        return detail::dispatch("anonymous", "", ec, [&](detail::Error& error) {
            return FileMapping(detail::Mapping::unnamed(size, error));
        });
    }

    static FileMapping from_native_handle(native_handle_type handle, Access access,
                                          std::error_code* ec)
    {
        return detail::dispatch("from_native_handle", "", ec, [&](detail::Error& error) {
            return FileMapping(detail::Mapping::adopt(handle, access, error));
        });
    }

    static FileMapping map_file(const std::filesystem::path& path, Access access, std::size_t size,
                                std::error_code* ec)
    {
        return map_file(path, access, size, Options{}, ec);
    }
    static FileMapping map_file(const std::filesystem::path& path, Access access, std::size_t size,
                                const Options& options, std::error_code* ec)
    {
        return detail::dispatch(
            "map_file", detail::display_path(path), ec, [&](detail::Error& error) {
                return FileMapping(detail::Mapping::file(path, access, size, options, error));
            });
    }

    void grow(std::size_t new_size, std::error_code* ec)
    {
        detail::dispatch("grow", name(), ec,
                         [&](detail::Error& error) { mapping_.grow(new_size, error); });
    }
    std::size_t refresh(std::error_code* ec)
    {
        return detail::dispatch("refresh", name(), ec,
                                [&](detail::Error& error) { return mapping_.refresh(error); });
    }

    void set_inheritable(bool inheritable, std::error_code* ec)
    {
        detail::dispatch("set_inheritable", name(), ec, [&](detail::Error& error) {
            mapping_.set_inheritable(inheritable, error);
        });
    }

    /// A const mapping may hand out no writable view.
    View make_view(std::size_t offset, std::size_t length, Access access, std::error_code* ec) const
    {
        return detail::dispatch("view", name(), ec, [&](detail::Error& error) {
            if (access == Access::read_write) {
                error.set(std::errc::permission_denied, "a const mapping gives read-only views");
                return View();
            }
            return View(mapping_.window(offset, length, access, error));
        });
    }
    View make_view(std::size_t offset, std::size_t length, Access access, std::error_code* ec)
    {
        return detail::dispatch("view", name(), ec, [&](detail::Error& error) {
            return View(mapping_.window(offset, length, access, error));
        });
    }
};

} // namespace filemap
