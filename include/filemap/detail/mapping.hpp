// filemap/detail/mapping.hpp - Mapping: the one owning value everything else is built from.
//
// A Mapping owns a handle and one mapped window of it, with the name, access
// and origin that go with them: FileMapping and View wrap one, and so does
// the named block behind every NamedMutex and Channel. Moves leave the source
// empty; closing unmaps first (a live mapping keeps the object's locks), then
// closes the handle; nothing here throws.
//
// This is also where the platform-neutral policy lives, once: which sizes
// are valid, what open_or_create does when the name changes hands, how big
// an opened object or file is mapped. The ports below only make system calls.
#pragma once

#include <filemap/detail/platform.hpp>
#include <filemap/detail/port.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace filemap::detail {

/// What a named factory call asks for.
enum class Disposition { create, open, open_or_create };

/// The operation's name in messages: "create", "open", "open_or_create".
inline const char* operation_name(Disposition disposition) noexcept
{
    switch (disposition) {
    case Disposition::create: return "create";
    case Disposition::open: return "open";
    default: return "open_or_create";
    }
}

/// A named object asked for: `size` is the exact size for create, the least
/// acceptable one for open_or_create, and unused for open.
struct NamedRequest {
    Disposition disposition = Disposition::open;
    std::string_view name;
    std::size_t size = 0;
    Options options;
    std::uint32_t choice = 0; ///< a type's own choice at create (Topic: its Overflow)
};

inline bool is_valid(Access access) noexcept
{
    return access == Access::read_only || access == Access::read_write ||
           access == Access::copy_on_write;
}
inline bool is_valid(Lifetime lifetime) noexcept
{
    return lifetime == Lifetime::scoped || lifetime == Lifetime::persistent;
}
inline bool is_valid(Advice advice) noexcept
{
    return advice == Advice::normal || advice == Advice::sequential || advice == Advice::random ||
           advice == Advice::willneed || advice == Advice::dontneed;
}

/// Records invalid_argument for an enumeration value outside its enumerators.
template <class Enum>
bool check_enum(Enum value, const char* what, Error& error)
{
    if (!is_valid(value)) {
        error.set(std::errc::invalid_argument, std::string(what) + " " +
                                                   std::to_string(static_cast<long long>(value)) +
                                                   " is not one of its values");
        return false;
    }
    return true;
}

/// A path as messages and name() show it: UTF-8 on every platform.
inline std::string display_path(const std::filesystem::path& path)
{
    const auto text = path.u8string();
    return {text.begin(), text.end()};
}

/// Records bad_file_descriptor for an operation on a closed object.
inline void set_closed(Error& error, std::string_view kind)
{
    error.set(std::errc::bad_file_descriptor, "the " + std::string(kind) + " is closed");
}

/// How often open_or_create tries again when the name changes hands between
/// its open and its create (another process created or removed it
/// meanwhile). Each round
/// repeats only after such a change, so this bound only stops a livelock.
inline constexpr int max_open_or_create_rounds = 1000;

class Mapping {
public:
    Mapping() noexcept = default;
    Mapping(Mapping&& other) noexcept { swap(other); }
    Mapping& operator=(Mapping&& other) noexcept
    {
        Mapping(std::move(other)).swap(*this);
        return *this;
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { close(); }

    void swap(Mapping& other) noexcept
    {
        handle_.swap(other.handle_);
        std::swap(mapped_, other.mapped_);
        std::swap(size_, other.size_);
        std::swap(offset_, other.offset_);
        name_.swap(other.name_);
        std::swap(access_, other.access_);
        std::swap(created_, other.created_);
        std::swap(capacity_, other.capacity_);
        std::swap(prefault_, other.prefault_);
    }

    // ---- making one ----------------------------------------------------------

    /// A named object, created or opened as `request` says, mapped whole. A
    /// new object is built by `build(Mapping&, Error&)` before anyone can
    /// reach it by name where the system allows (see os::publish_named).
    template <class Build = bool (*)(Mapping&, Error&)>
    static Mapping named(const NamedRequest& request, Error& error, Build build = nothing_to_build)
    {
        const Options& options = request.options;
        const Name name = parse_name(request.name, error);
        if (error || !check_enum(options.access, "access", error) ||
            (request.disposition != Disposition::open &&
             !check_new(request.size, options, error))) {
            return {};
        }
        // open_or_create opens first (an existing object costs no allocation),
        // and tries again while the name changes hands between its two steps.
        for (int round = 0; round < max_open_or_create_rounds; ++round) {
            if (request.disposition != Disposition::create) {
                Mapping opened = open_named(request, name, error);
                if (request.disposition == Disposition::open || !error ||
                    !error.is(std::errc::no_such_file_or_directory)) {
                    return opened;
                }
                error.clear();
            }
            Mapping made = create_named(request, name, build, error);
            if (request.disposition == Disposition::create || !error ||
                !error.is(std::errc::file_exists)) {
                return made;
            }
            error.clear(); // created meanwhile by another process: open it
        }
        error.set(std::errc::resource_unavailable_try_again, "the name kept changing hands");
        return {};
    }

    /// Unnamed zeroed memory, to share with child processes by inheritance.
    static Mapping unnamed(std::size_t size, Error& error)
    {
        if (!check_new(size, Options{}, error)) {
            return {};
        }
        os::Handle handle = os::create_unnamed(size, error);
        if (error) {
            return {};
        }
        return map(handle, {0, size, Access::read_write, false, false}, {}, true, error);
    }

    /// The whole object behind `native`, which it owns on success only.
    static Mapping adopt(typename os::Handle::native_handle_type native, Access access,
                         Error& error)
    {
        if (!check_enum(access, "access", error)) {
            return {};
        }
        os::Handle handle(native);
        os::check_mappable(handle, error);
        const std::size_t size = error ? 0 : existing_size(handle, error);
        if (!error && size == 0) {
            error.set(std::errc::invalid_argument, "the object is empty (0 bytes)");
        }
        Mapping mapping = error ? Mapping{} : map_whole(handle, {0, size, access}, {}, error);
        if (error) {
            handle.release(); // the caller keeps what it gave us
        }
        return mapping;
    }

    /// The file at `path`: `size` 0 maps it whole; a larger size grows it
    /// with read_write access and is result_out_of_range otherwise. Of
    /// `options`, prefault and max_size apply (address space for max_size
    /// bytes is kept for growth).
    static Mapping file(const std::filesystem::path& path, Access access, std::size_t size,
                        const Options& options, Error& error)
    {
        const std::size_t max_size = options.max_size;
        if (!check_enum(access, "access", error)) {
            return {};
        }
        os::Handle handle = os::open_file(path, access, error);
        const std::uint64_t file_size = error ? 0 : os::object_size(handle, error);
        if (error) {
            return {};
        }
        if (size == 0) {
            if (file_size == 0) {
                error.set(std::errc::invalid_argument, "the file is empty; give a size to grow it");
            } else if (file_size > std::numeric_limits<std::size_t>::max()) {
                error.set(std::errc::not_enough_memory,
                          "the file is larger than the address space");
            }
            size = static_cast<std::size_t>(file_size);
        } else if (size > file_size && access != Access::read_write) {
            error.set(std::errc::result_out_of_range,
                      "the file is " + std::to_string(file_size) + " bytes, asked for " +
                          std::to_string(size) + " without write access to grow it");
        }
        if (!error && max_size != 0 && max_size < size) {
            error.set(std::errc::invalid_argument, "max_size " + std::to_string(max_size) +
                                                       " is less than the " + std::to_string(size) +
                                                       " bytes mapped");
        }
        if (!error) {
            os::prepare_file(handle, size, access, error);
        }
        if (error) {
            return {};
        }
        MapRequest request{0, size, access, options.prefault};
        request.capacity = max_size;
        return map(handle, request, display_path(path), false, error);
    }

    /// Exactly [offset, offset + length) of the same object, mapped again
    /// with its own handle (so it outlives this mapping), with this
    /// mapping's access or a narrower one.
    Mapping window(std::size_t offset, std::size_t length, Access access, Error& error) const
    {
        if (!check_window(offset, length, access, error)) {
            return {};
        }
        // A file or object that another process shrank since we mapped it
        // would fault (SIGBUS) on first touch of the new view: refuse it.
        const std::uint64_t start = offset_ + offset;
        if (const std::uint64_t now = os::object_size(handle_, error);
            !error && (now < start || length > now - start)) {
            error.set(std::errc::result_out_of_range,
                      "the object is now " + std::to_string(now) + " bytes, smaller than " +
                          std::to_string(start + length) + " mapped bytes need");
        }
        os::Handle handle = error ? os::Handle{} : os::duplicate(handle_, error);
        if (error) {
            return {};
        }
        Mapping view = map(handle, {start, length, access}, name_, false, error);
        view.offset_ = static_cast<std::size_t>(start);
        return view;
    }

    // ---- what it is --------------------------------------------------------------

    bool is_open() const noexcept { return mapped_.base != nullptr; }
    std::byte* data() const noexcept
    {
        return is_open() ? static_cast<std::byte*>(mapped_.base) + mapped_.skip : nullptr;
    }
    std::size_t size() const noexcept { return size_; }
    /// Where the window starts in the object.
    std::size_t offset() const noexcept { return offset_; }
    /// The name as given (the path for files); empty when unnamed or closed.
    const std::string& name() const noexcept { return name_; }
    Access access() const noexcept { return access_; }
    bool created() const noexcept { return created_; }
    /// The most this mapping may grow to; 0 when it cannot grow.
    std::size_t max_size() const noexcept { return capacity_; }
    const os::Handle& handle() const noexcept { return handle_; }

    // ---- what it does --------------------------------------------------------------

    /// Writes changed pages back (a file: to the disk); nothing to do for
    /// read_only and copy_on_write mappings.
    void flush(Error& error) const
    {
        if (!is_open()) {
            set_closed(error, "mapping");
        } else if (access_ == Access::read_write) {
            os::flush(mapped_, handle_, error);
        }
    }

    void advise(Advice advice, Error& error) const
    {
        if (!is_open()) {
            set_closed(error, "mapping");
        } else if (check_enum(advice, "advice", error)) {
            os::advise(data(), size_, advice, error);
        }
    }

    void set_inheritable(bool inheritable, Error& error) const
    {
        if (!is_open()) {
            set_closed(error, "mapping");
        } else {
            os::set_inheritable(handle_, inheritable, error);
        }
    }

    /// Makes the object at least `new_size` bytes, the new ones zero, and
    /// maps them here; the address stays. Only ever grows.
    void grow(std::size_t new_size, Error& error)
    {
        if (!is_open()) {
            set_closed(error, "mapping");
        } else if (access_ != Access::read_write) {
            error.set(std::errc::permission_denied, "the mapping is not writable");
        } else if (new_size > (capacity_ != 0 ? capacity_ : size_)) {
            error.set(std::errc::result_out_of_range,
                      capacity_ == 0 ? "the mapping has a fixed size (made without max_size)"
                                     : std::to_string(new_size) + " bytes is beyond max_size " +
                                           std::to_string(capacity_));
        } else if (new_size > size_) {
            os::extend(handle_, mapped_, size_, new_size, error);
            if (!error) {
                map_up_to(new_size, error);
            }
        }
    }

    /// Maps what other processes added (up to max_size); returns size().
    std::size_t refresh(Error& error)
    {
        if (!is_open()) {
            set_closed(error, "mapping");
        } else if (capacity_ != 0) {
            const std::uint64_t now = os::extent(handle_, mapped_, error);
            // Beyond max_size is a peer's doing (or, on Windows, the page
            // rounding openers see): map what this handle can. Less than
            // size() is a peer shrinking the object, which no one can undo.
            if (!error && now > size_) {
                map_up_to(static_cast<std::size_t>(std::min<std::uint64_t>(now, capacity_)), error);
            }
        }
        return size_;
    }

    /// Unmaps, then closes the handle (which may end a scoped name); idempotent.
    void close() noexcept
    {
        if (mapped_.base != nullptr) {
            os::unmap(mapped_); // first: a live mapping would keep the object's locks
        }
        handle_.close(); // after the unmap: a scoped handle's close may end the name
        mapped_ = {};
        size_ = 0;
        offset_ = 0;
        name_.clear();
        access_ = Access::read_write;
        created_ = false;
        capacity_ = 0;
        prefault_ = false;
    }

private:
    /// Makes the first `size` bytes usable and sets size() to it.
    void map_up_to(std::size_t size, Error& error)
    {
        MapRequest request{0, size, access_, prefault_};
        request.capacity = capacity_;
        os::map_more(handle_, mapped_, request, error);
        if (!error) {
            size_ = size;
        }
    }

    /// A window must be open, inside the mapping, and no wider in access.
    bool check_window(std::size_t offset, std::size_t length, Access access, Error& error) const
    {
        if (!is_open()) {
            set_closed(error, "mapping");
        } else if (!check_enum(access, "access", error)) {
            return false;
        } else if (length == 0) {
            error.set(std::errc::invalid_argument, "a view needs at least 1 byte");
        } else if (offset > size_ || length > size_ - offset) {
            error.set(std::errc::result_out_of_range,
                      std::to_string(length) + " bytes at offset " + std::to_string(offset) +
                          " do not fit in " + std::to_string(size_) + " bytes");
        } else if (access_ != Access::read_write && access == Access::read_write) {
            error.set(std::errc::permission_denied, "the mapping is not writable");
        }
        return !error;
    }

    /// The rules every new object follows, before any system call.
    static bool check_new(std::size_t size, const Options& options, Error& error)
    {
        if (size == 0) {
            error.set(std::errc::invalid_argument, "size must be at least 1 byte");
            return false;
        }
        if (options.max_size != 0 && options.max_size < size) {
            error.set(std::errc::invalid_argument, "max_size " + std::to_string(options.max_size) +
                                                       " is less than size " +
                                                       std::to_string(size));
            return false;
        }
        if (options.max_size != 0 && options.huge_pages) {
            error.set(std::errc::invalid_argument,
                      "huge_pages objects cannot grow (Windows large-page sections are fixed)");
            return false;
        }
        if ((options.permissions & ~std::filesystem::perms::all) != std::filesystem::perms::none) {
            error.set(std::errc::invalid_argument,
                      "permissions may hold only read, write and execute bits");
            return false;
        }
        return check_enum(options.lifetime, "lifetime", error);
    }

    static bool nothing_to_build(Mapping&, Error&) { return true; }

    /// create: a new object, mapped, built by `build`, then published.
    template <class Build>
    static Mapping create_named(const NamedRequest& request, const Name& name, Build& build,
                                Error& error)
    {
        const Options& options = request.options;
        const NewObject object{request.size,    options.lifetime,   options.permissions,
                               options.reserve, options.huge_pages, options.max_size};
        os::Handle handle = os::create_named(name, object, error);
        if (error) {
            return {};
        }
        const bool growable = options.max_size != 0;
        MapRequest whole{0, growable ? 0 : request.size, options.access, options.prefault,
                         options.huge_pages};
        whole.capacity = options.max_size;
        Mapping mapping = map(handle, whole, std::string(request.name), true, error);
        if (!error && growable) { // backed as a grow is (Windows commits pages only in a view)
            os::extend(mapping.handle_, mapping.mapped_, 0, request.size, error);
            if (!error) {
                mapping.map_up_to(request.size, error);
            }
        }
        if (!error && build(mapping, error)) {
            os::publish_named(mapping.handle_, name, error);
        }
        return error ? Mapping{} : std::move(mapping);
    }

    /// open: the existing object, whole, if it is big enough (and, for
    /// open_or_create, ours to adopt).
    static Mapping open_named(const NamedRequest& request, const Name& name, Error& error)
    {
        std::uint64_t found = 0;
        os::Handle handle = os::open_named(name, request.options.access, found, error);
        const std::size_t size = error ? 0 : fits_in_memory(found, error);
        if (!error && request.disposition == Disposition::open_or_create) {
            os::check_adoptable(handle, error);
        }
        if (error) {
            return {};
        }
        const Options& options = request.options;
        const MapRequest whole{0, size, options.access, options.prefault, options.huge_pages};
        Mapping mapping = map_whole(handle, whole, std::string(request.name), error);
        if (!error && mapping.size_ < request.size) {
            error.set(std::errc::result_out_of_range,
                      "the object is " + std::to_string(mapping.size_) + " bytes, asked for " +
                          std::to_string(request.size));
        }
        return error ? Mapping{} : std::move(mapping);
    }

    /// An existing object, whole: `request.length` bytes, or, if it can
    /// grow, what it holds now inside a range kept for its max_size.
    static Mapping map_whole(os::Handle& handle, MapRequest request, std::string name, Error& error)
    {
        const std::uint64_t limit = os::growth_limit(handle, error);
        if (error || limit == 0) {
            return error ? Mapping{} : map(handle, request, std::move(name), false, error);
        }
        request.capacity = fits_in_memory(limit, error);
        request.length = 0;
        Mapping mapping = error ? Mapping{} : map(handle, request, std::move(name), false, error);
        if (!error) {
            mapping.refresh(error);
        }
        return error ? Mapping{} : std::move(mapping);
    }

    static std::size_t existing_size(const os::Handle& handle, Error& error)
    {
        const std::uint64_t size = os::object_size(handle, error);
        return error ? 0 : fits_in_memory(size, error);
    }

    static std::size_t fits_in_memory(std::uint64_t size, Error& error)
    {
        if (size > std::numeric_limits<std::size_t>::max()) {
            error.set(std::errc::not_enough_memory, "the object is larger than the address space");
        }
        return static_cast<std::size_t>(size);
    }

    /// Maps `request` of `handle` into a Mapping that owns both; on failure
    /// `handle` stays with the caller.
    static Mapping map(os::Handle& handle, const MapRequest& request, std::string name,
                       bool created, Error& error)
    {
        const Mapped mapped = os::map(handle, request, error);
        if (error) {
            return {};
        }
        Mapping mapping;
        mapping.handle_ = std::move(handle);
        mapping.mapped_ = mapped;
        mapping.size_ = request.length;
        mapping.name_ = std::move(name);
        mapping.access_ = request.access;
        mapping.created_ = created;
        mapping.capacity_ = request.capacity;
        mapping.prefault_ = request.prefault;
        return mapping;
    }

    os::Handle handle_; // closed after the unmap, by close()
    Mapped mapped_;
    std::size_t size_ = 0;
    std::size_t offset_ = 0;
    std::string name_;
    Access access_ = Access::read_write;
    bool created_ = false;
    std::size_t capacity_ = 0; // growable up to this many bytes; 0: fixed
    bool prefault_ = false;    // also for the pages a growth maps
};

} // namespace filemap::detail
