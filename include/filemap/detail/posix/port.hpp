// filemap/detail/posix/port.hpp - the port contract (detail/port.hpp) on Linux.
//
// Handles are descriptors: shm_open for names (through the naming protocol
// of posix/scoped_name.hpp), memfd_create for unnamed memory, open for files;
// views are mmap, and growable ones follow posix/growth.hpp. Linux only: the scoped lifetime needs
// OFD locks and /proc/self/fd, and the waits (posix/sync.hpp) need futexes.
#pragma once

#include <filemap/detail/port.hpp>
#include <filemap/detail/posix/growth.hpp>
#include <filemap/detail/posix/liveness.hpp>
#include <filemap/detail/posix/scoped_name.hpp>
#include <filemap/detail/posix/system.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace filemap::detail::os {

/// An owned descriptor; a scoped one also holds its name, which its close()
/// gives up by the naming protocol. Unmap every view of it first.
class Handle {
public:
    using native_handle_type = int;

    Handle() noexcept = default;
    explicit Handle(int fd, posix::Holder holder = {}) noexcept
        : fd_(fd), holder_(std::move(holder))
    {
    }
    Handle(Handle&& other) noexcept
        : fd_(std::move(other.fd_)), holder_(std::exchange(other.holder_, {}))
    {
    }
    Handle& operator=(Handle&& other) noexcept
    {
        Handle(std::move(other)).swap(*this);
        return *this;
    }
    ~Handle() { close(); }

    void swap(Handle& other) noexcept
    {
        fd_.swap(other.fd_);
        std::swap(holder_, other.holder_);
    }

    int native() const noexcept { return fd_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(fd_); }
    /// The name this handle keeps alive, and the process that holds it.
    const posix::Holder& holder() const noexcept { return holder_; }
    /// The same, for the naming protocol to complete when it publishes.
    posix::Holder& holder() noexcept { return holder_; }
    /// Gives up the descriptor, unclosed, and any hold on a name.
    int release() noexcept
    {
        holder_ = {};
        return fd_.release();
    }
    void close() noexcept
    {
        if (fd_) {
            posix::release_hold(fd_.get(), holder_);
            fd_.close();
        }
    }

private:
    posix::Descriptor fd_;
    posix::Holder holder_;
};

} // namespace filemap::detail::os

namespace filemap::detail {

// ---- named objects -----------------------------------------------------------

inline os::Handle os::create_named(const Name&, const NewObject& object, Error& error)
{
    posix::Holder holder;
    posix::Descriptor fd = posix::create_unlinked(object, holder, error);
    return error ? Handle{} : Handle(fd.release(), std::move(holder));
}

inline void os::publish_named(Handle& handle, const Name& name, Error& error)
{
    posix::publish(handle.native(), posix::posix_name(name), handle.holder(), error);
}

inline bool os::objects_appear_whole() noexcept
{
    return true;
}

inline os::Handle os::open_named(const Name& name, Access access, std::uint64_t& size, Error& error)
{
    posix::Holder holder;
    posix::Descriptor fd = posix::open_object(posix::posix_name(name), access, holder, size, error);
    return error ? Handle{} : Handle(fd.release(), std::move(holder));
}

/// Only our own objects: another user's (a squatter in world-writable
/// /dev/shm) could read what we write, or change its mode to, whatever we saw.
inline void os::check_adoptable(const Handle& handle, Error& error)
{
    struct stat st {};
    if (posix::stat_of(handle.native(), st, error) && st.st_uid != ::geteuid()) {
        error.set(std::errc::permission_denied, "the object belongs to another user (uid " +
                                                    std::to_string(st.st_uid) +
                                                    "); open() it to share it on purpose");
    }
}

inline bool os::remove_named(const Name& name, Error& error)
{
    if (::shm_unlink(posix::posix_name(name).c_str()) == 0) {
        return true;
    }
    if (errno != ENOENT) {
        error.set_errno(errno);
    }
    return false;
}

// ---- unnamed objects and files ---------------------------------------------

inline os::Handle os::create_unnamed(std::size_t size, Error& error)
{
    Handle handle(::memfd_create("filemap", MFD_CLOEXEC));
    if (!handle) {
        error.set_errno(errno);
        return {};
    }
    if (!posix::resize(handle.native(), size, true, error)) {
        return {};
    }
    return handle;
}

inline void os::check_mappable(const Handle& handle, Error& error)
{
    struct stat st {};
    if (::fstat(handle.native(), &st) != 0) {
        error.set_errno(errno);
    } else if (!S_ISREG(st.st_mode)) {
        error.set(std::errc::invalid_argument, "the descriptor is not a file or shared memory");
    }
}

inline os::Handle os::open_file(const std::filesystem::path& path, Access access, Error& error)
{
    // O_NONBLOCK: a FIFO at the path must not block us (it is refused below).
    Handle handle(posix::retry_eintr(
        [&] { return ::open(path.c_str(), posix::open_flags(access) | O_NONBLOCK | O_CLOEXEC); }));
    if (!handle) {
        error.set_errno(errno);
        return {};
    }
    struct stat st {};
    if (!posix::stat_of(handle.native(), st, error)) {
        return {};
    }
    if (!S_ISREG(st.st_mode)) {
        error.set(std::errc::invalid_argument, "not a regular file");
        return {};
    }
    return handle;
}

inline void os::prepare_file(Handle& handle, std::size_t size, Access, Error& error)
{
    if (const std::uint64_t now = object_size(handle, error); !error && now < size) {
        posix::resize(handle.native(), size, true, error);
    }
}

// ---- any handle --------------------------------------------------------------

inline std::uint64_t os::object_size(const Handle& handle, Error& error)
{
    struct stat st {};
    if (!posix::stat_of(handle.native(), st, error)) {
        return 0;
    }
    return static_cast<std::uint64_t>(st.st_size);
}

/// A scoped holder needs its own open file description, since dup() would
/// share the first one's lock; /proc/self/fd opens one.
inline os::Handle os::duplicate(const Handle& handle, Error& error)
{
    const std::string& os_name = handle.holder().os_name;
    if (os_name.empty()) {
        Handle copy(::fcntl(handle.native(), F_DUPFD_CLOEXEC, 0));
        if (!copy) {
            error.set_errno(errno, "dup");
        }
        return copy;
    }
    const int flags = ::fcntl(handle.native(), F_GETFL) & O_ACCMODE;
    const std::string self = "/proc/self/fd/" + std::to_string(handle.native());
    posix::Descriptor fd(
        posix::retry_eintr([&] { return ::open(self.c_str(), flags | O_CLOEXEC); }));
    posix::Holder holder;
    struct stat st {};
    if (!fd || !posix::stat_of(fd.get(), st, error) ||
        !posix::take_hold(fd.get(), flags, os_name, st, holder)) {
        if (!error) {
            error.set_errno(errno, "reopening the object");
        }
        return {};
    }
    return Handle(fd.release(), std::move(holder));
}

inline void os::set_inheritable(const Handle& handle, bool inheritable, Error& error)
{
    const int flags = ::fcntl(handle.native(), F_GETFD);
    const int wanted = inheritable ? (flags & ~FD_CLOEXEC) : (flags | FD_CLOEXEC);
    if (flags == -1 || ::fcntl(handle.native(), F_SETFD, wanted) == -1) {
        error.set_errno(errno);
    }
}

// ---- views -------------------------------------------------------------------

inline Mapped os::map(const Handle& handle, const MapRequest& request, Error& error)
{
    if (request.capacity != 0) { // growable: the whole range now, usable as it grows
        if (request.capacity > std::numeric_limits<std::size_t>::max() - posix::page_size()) {
            error.set(std::errc::not_enough_memory, "max_size is larger than the address space");
            return {};
        }
        const std::size_t reserved = posix::whole_pages(request.capacity);
        void* base = posix::reserve_range(handle.native(), reserved, request.access, error);
        Mapped mapped{base, 0, 0, reserved};
        if (base != nullptr) {
            map_more(handle, mapped, request, error);
        }
        if (error && base != nullptr) {
            ::munmap(base, reserved);
        }
        return error ? Mapped{} : mapped;
    }
    const auto skip = static_cast<std::size_t>(request.offset % posix::page_size());
    if (request.length > std::numeric_limits<std::size_t>::max() - skip) {
        error.set(std::errc::not_enough_memory, "the view does not fit in the address space");
        return {};
    }
    const std::size_t length = skip + request.length;
    const int protection = posix::protection_of(request.access);
    const int flags = (request.access == Access::copy_on_write ? MAP_PRIVATE : MAP_SHARED) |
                      (request.prefault ? MAP_POPULATE : 0);
    void* base = ::mmap(nullptr, length, protection, flags, handle.native(),
                        static_cast<off_t>(request.offset - skip));
    if (base == MAP_FAILED) {
        error.set_errno(errno, "mapping " + std::to_string(length) + " bytes");
        return {};
    }
    if (request.huge_pages && ::madvise(base, length, MADV_HUGEPAGE) != 0) {
        error.set_errno(errno, "madvise(MADV_HUGEPAGE)");
        ::munmap(base, length);
        return {};
    }
    return {base, length, skip};
}

inline void os::unmap(const Mapped& mapped) noexcept
{
    ::munmap(mapped.base, mapped.reserved != 0 ? mapped.reserved : mapped.length);
}

/// msync(MS_SYNC): for a file, the data is on disk when this returns.
inline void os::flush(const Mapped& mapped, const Handle&, Error& error)
{
    if (::msync(mapped.base, mapped.length, MS_SYNC) != 0) {
        error.set_errno(errno, "msync");
    }
}

/// madvise over the pages that hold [data, data + size).
inline void os::advise(std::byte* data, std::size_t size, Advice advice, Error& error)
{
    const auto first = reinterpret_cast<std::uintptr_t>(data) & ~(posix::page_size() - 1);
    const std::size_t length = reinterpret_cast<std::uintptr_t>(data) + size - first;
    const int how = advice == Advice::sequential ? MADV_SEQUENTIAL
                    : advice == Advice::random   ? MADV_RANDOM
                    : advice == Advice::willneed ? MADV_WILLNEED
                    : advice == Advice::dontneed ? MADV_DONTNEED
                                                 : MADV_NORMAL;
    if (size != 0 && ::madvise(reinterpret_cast<void*>(first), length, how) != 0) {
        error.set_errno(errno, "madvise");
    }
}

// ---- growth ------------------------------------------------------------------

/// The recorded limit, which an object already larger than it belies.
inline std::uint64_t os::growth_limit(const Handle& handle, Error& error)
{
    const std::uint64_t limit = posix::recorded_max_size(handle.native(), error);
    const std::uint64_t size = limit == 0 ? 0 : object_size(handle, error);
    if (!error && size > limit) {
        error.set(std::errc::invalid_argument, "corrupt max_size attribute: the object is " +
                                                   std::to_string(size) + " bytes, more than " +
                                                   std::to_string(limit));
    }
    return error ? 0 : limit;
}

inline void os::extend(Handle& handle, Mapped&, std::size_t from, std::size_t to, Error& error)
{
    posix::extend(handle.native(), from, to, error);
}

inline std::uint64_t os::extent(const Handle& handle, const Mapped&, Error& error)
{
    return object_size(handle, error);
}

inline void os::map_more(const Handle&, Mapped& mapped, const MapRequest& request, Error& error)
{
    const std::size_t usable = posix::whole_pages(request.length);
    posix::open_range(static_cast<std::byte*>(mapped.base), mapped.length, usable, request.access,
                      request.prefault, error);
    if (!error && usable > mapped.length) {
        mapped.length = usable;
    }
}

inline ProcessMark os::this_process() noexcept
{
    const auto pid = static_cast<std::uint32_t>(::getpid());
    const auto stat = posix::thread_stat(pid);
    return {pid, posix::pid_namespace_of_self(), stat ? stat->start : 0};
}

inline bool os::process_gone(const ProcessMark& mark) noexcept
{
    // A process is its thread-group leader's id; the mark keeps 32 bits of its start.
    return posix::certainly_gone(
        mark.id, posix::make_mark(mark.id, static_cast<std::uint32_t>(mark.start)), mark.scope);
}

} // namespace filemap::detail
