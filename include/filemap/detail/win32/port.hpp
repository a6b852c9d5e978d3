// filemap/detail/win32/port.hpp - the port contract (detail/port.hpp) on Windows.
//
// Handles are sections (CreateFileMappingW / OpenFileMappingW), plus the file
// for file mappings (FlushFileBuffers needs it); views are MapViewOfFile.
// Windows names already live exactly as long as their handles, so the
// scoped lifetime is the kernel's own and there is no naming protocol here.
#pragma once

#include <filemap/detail/port.hpp>
#include <filemap/detail/win32/api.hpp>
#include <filemap/detail/win32/growth.hpp>
#include <filemap/detail/win32/security.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

namespace filemap::detail::os {

/// An owned section handle and, for a file mapping, the file's handle.
class Handle {
public:
    using native_handle_type = void*;

    Handle() noexcept = default;
    explicit Handle(void* section, void* file = nullptr) noexcept : section_(section), file_(file)
    {
    }
    Handle(Handle&& other) noexcept
        : section_(std::exchange(other.section_, nullptr)),
          file_(std::exchange(other.file_, nullptr))
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
        std::swap(section_, other.section_);
        std::swap(file_, other.file_);
    }

    void* native() const noexcept { return section_; }
    void* file() const noexcept { return file_; }
    explicit operator bool() const noexcept { return section_ != nullptr || file_ != nullptr; }
    /// Gives up the section handle, unclosed.
    void* release() noexcept { return std::exchange(section_, nullptr); }
    /// Takes the section made for the file this handle holds.
    void set_section(void* section) noexcept { section_ = section; }

    void close() noexcept
    {
        for (void* handle : {std::exchange(section_, nullptr), std::exchange(file_, nullptr)}) {
            if (handle != nullptr) {
                CloseHandle(handle);
            }
        }
    }

private:
    void* section_ = nullptr;
    void* file_ = nullptr;
};

} // namespace filemap::detail::os

namespace filemap::detail {

// ---- named objects -------------------------------------------------------------

inline os::Handle os::create_named(const Name& name, const NewObject& object, Error& error)
{
    if (object.lifetime == Lifetime::persistent) {
        error.set(std::errc::not_supported, "Windows names always live as long as their handles");
        return {};
    }
    const win::SecurityDescriptor descriptor(object.permissions, error);
    if (error) {
        return {};
    }
    win::SecurityAttributes attributes = descriptor.attributes();
    // Paging-file sections are always committed: SEC_RESERVE would need
    // VirtualAlloc before each first touch, so `reserve` cannot be relaxed.
    unsigned long flags = win::page_readwrite | win::sec_commit;
    std::size_t size = object.size;
    if (object.max_size != 0) { // growable: committed later, page by page; see os::extend
        flags = win::page_readwrite | win::sec_reserve;
        size = win::growable_section_size(object.max_size, error);
        if (error) {
            return {};
        }
    }
    if (object.huge_pages) { // a whole number of large pages, locked in memory
        size = win::whole_large_pages(size, error);
        if (error) {
            return {};
        }
        flags |= win::sec_large_pages;
    }
    Handle handle(CreateFileMappingW(
        win::invalid_handle, reinterpret_cast<_SECURITY_ATTRIBUTES*>(&attributes), flags,
        win::high(size), win::low(size), win::wide_name(name).c_str()));
    const unsigned long code = GetLastError();
    if (!handle) {
        if (object.huge_pages && code == win::privilege_not_held) {
            win::set_large_pages_failure(error, code, "CreateFileMappingW");
        } else {
            win::set_named_failure(error, name, code);
        }
        return {};
    }
    if (code == win::already_exists) { // a handle to the existing object: not ours to hand out
        error.set(std::errc::file_exists);
        return {};
    }
    return handle;
}

/// CreateFileMappingW named the object already.
inline void os::publish_named(Handle&, const Name&, Error&) {}

/// A section is named when it is created, so an opener may find a block
/// still being built (it waits for its "ready" word).
inline bool os::objects_appear_whole() noexcept
{
    return false;
}

inline os::Handle os::open_named(const Name& name, Access access, std::uint64_t& size, Error& error)
{
    const unsigned long rights =
        win::section_query |
        (access == Access::read_write ? win::file_map_write | win::file_map_read
                                      : win::file_map_read);
    Handle handle(OpenFileMappingW(rights, 0, win::wide_name(name).c_str()));
    if (!handle) {
        win::set_named_failure(error, name, GetLastError());
        return {};
    }
    size = object_size(handle, error);
    return handle;
}

/// The section's DACL already decided who may open it.
inline void os::check_adoptable(const Handle&, Error&) {}

inline bool os::remove_named(const Name&, Error& error)
{
    error.set(std::errc::not_supported, "Windows names live exactly as long as their handles");
    return false;
}

// ---- unnamed objects and files ---------------------------------------------

inline os::Handle os::create_unnamed(std::size_t size, Error& error)
{
    Handle handle(CreateFileMappingW(win::invalid_handle, nullptr,
                                     win::page_readwrite | win::sec_commit, win::high(size),
                                     win::low(size), nullptr));
    if (!handle) {
        win::set_win32(error, GetLastError());
    }
    return handle;
}

inline void os::check_mappable(const Handle& handle, Error& error)
{
    unsigned long flags = 0;
    if (handle.native() == nullptr || handle.native() == win::invalid_handle ||
        !GetHandleInformation(handle.native(), &flags)) {
        error.set(std::errc::bad_file_descriptor);
    }
}

inline os::Handle os::open_file(const std::filesystem::path& path, Access access, Error& error)
{
    const bool writable = access == Access::read_write;
    void* file =
        CreateFileW(path.c_str(), win::generic_read | (writable ? win::generic_write : 0),
                    win::share_all, nullptr, win::open_existing, win::attribute_normal, nullptr);
    if (file == win::invalid_handle) {
        const unsigned long code = GetLastError();
        const unsigned long attributes = GetFileAttributesW(path.c_str());
        if (attributes != win::invalid_attributes && (attributes & win::attribute_directory)) {
            error.set(std::errc::invalid_argument, "not a regular file");
        } else {
            win::set_win32(error, code);
        }
        return {};
    }
    return Handle(nullptr, file);
}

/// CreateFileMappingW of `size` bytes extends a shorter file.
inline void os::prepare_file(Handle& handle, std::size_t size, Access access, Error& error)
{
    void* section =
        CreateFileMappingW(handle.file(), nullptr,
                           access == Access::read_write ? win::page_readwrite : win::page_readonly,
                           win::high(size), win::low(size), nullptr);
    if (section == nullptr) {
        win::set_win32(error, GetLastError());
        return;
    }
    handle.set_section(section);
}

// ---- any handle --------------------------------------------------------------

/// A section's size (NtQuerySection: exact on Windows, page-rounded under
/// Wine; never the VirtualQuery region), or a file's before it has one.
inline std::uint64_t os::object_size(const Handle& handle, Error& error)
{
    if (handle.native() == nullptr) {
        long long size = 0;
        if (!GetFileSizeEx(handle.file(), reinterpret_cast<_LARGE_INTEGER*>(&size))) {
            win::set_win32(error, GetLastError(), "reading the file size");
        }
        return static_cast<std::uint64_t>(size);
    }
    win::SectionBasicInformation info{};
    const long status = win::query_section(handle.native(), info);
    if (status != 0) {
        if (static_cast<unsigned long>(status) == 0xC0000024UL) { // STATUS_OBJECT_TYPE_MISMATCH
            error.set(std::errc::invalid_argument, "the handle is not a file mapping");
        } else {
            error.set(std::errc::bad_file_descriptor, "NtQuerySection");
        }
        return 0;
    }
    return static_cast<std::uint64_t>(info.size);
}

inline os::Handle os::duplicate(const Handle& handle, Error& error)
{
    void* copies[2] = {nullptr, nullptr};
    void* const originals[2] = {handle.native(), handle.file()};
    for (int i = 0; i < 2; ++i) {
        if (originals[i] != nullptr &&
            !DuplicateHandle(GetCurrentProcess(), originals[i], GetCurrentProcess(), &copies[i], 0,
                             0, 0x2 /* DUPLICATE_SAME_ACCESS */)) {
            win::set_win32(error, GetLastError(), "DuplicateHandle");
            if (copies[0] != nullptr) {
                CloseHandle(copies[0]);
            }
            return {};
        }
    }
    return Handle(copies[0], copies[1]);
}

inline void os::set_inheritable(const Handle& handle, bool inheritable, Error& error)
{
    if (!SetHandleInformation(handle.native(), win::handle_flag_inherit,
                              inheritable ? win::handle_flag_inherit : 0)) {
        win::set_win32(error, GetLastError());
    }
}

// ---- views -------------------------------------------------------------------

inline Mapped os::map(const Handle& handle, const MapRequest& request, Error& error)
{
    if (request.capacity != 0) {
        return win::map_growable(handle.native(), handle.file(), request, error);
    }
    const auto skip = static_cast<std::size_t>(request.offset % win::granularity);
    const std::uint64_t start = request.offset - skip;
    unsigned long rights = win::view_rights(request.access);
    std::size_t length = skip + request.length;
    if (request.huge_pages) { // a view of large pages spans whole ones
        length = win::whole_large_pages(length, error);
        if (error) {
            return {};
        }
        rights |= win::file_map_large_pages;
    }
    void* base = MapViewOfFile(handle.native(), rights, win::high(start), win::low(start), length);
    if (base == nullptr) {
        if (request.huge_pages) {
            win::set_large_pages_failure(error, GetLastError(), "MapViewOfFile");
        } else {
            win::set_win32(error, GetLastError(), "MapViewOfFile");
        }
        return {};
    }
    if (request.prefault) {
        win::prefetch(base, length);
    }
    return {base, length, skip};
}

inline void os::unmap(const Mapped& mapped) noexcept
{
    UnmapViewOfFile(mapped.base);
}

/// FlushViewOfFile (of the committed pages of a growable view), then
/// FlushFileBuffers for a file: on disk when it returns.
inline void os::flush(const Mapped& mapped, const Handle& handle, Error& error)
{
    if (!FlushViewOfFile(mapped.base, mapped.length)) {
        win::set_win32(error, GetLastError(), "FlushViewOfFile");
    } else if (handle.file() != nullptr && !FlushFileBuffers(handle.file())) {
        win::set_win32(error, GetLastError(), "FlushFileBuffers");
    }
}

/// Windows has no read-ahead hints for views: willneed prefetches,
/// dontneed discards this process's copies, the others change nothing.
inline void os::advise(std::byte* data, std::size_t size, Advice advice, Error& error)
{
    if (advice == Advice::willneed) {
        win::prefetch(data, size);
    } else if (advice == Advice::dontneed) {
        using Discard = unsigned long(__stdcall*)(void*, std::size_t);
        static const auto discard = reinterpret_cast<Discard>(reinterpret_cast<void*>(
            GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "DiscardVirtualMemory")));
        if (discard == nullptr) {
            error.set(std::errc::not_supported, "DiscardVirtualMemory needs Windows 8.1");
        } else if (const unsigned long code = discard(data, size); code != 0) {
            win::set_win32(error, code, "DiscardVirtualMemory");
        }
    }
}

// ---- growth ------------------------------------------------------------------

inline std::uint64_t os::growth_limit(const Handle& handle, Error& error)
{
    win::SectionBasicInformation info{};
    if (handle.native() == nullptr || win::query_section(handle.native(), info) != 0) {
        return 0; // object_size() has already reported a section it cannot query
    }
    return win::growth_limit_of(info, error);
}

/// Commits the pages (section-wide: every view, in every process, sees them).
inline void os::extend(Handle&, Mapped& mapped, std::size_t from, std::size_t to, Error& error)
{
    const std::size_t first = from & ~(win::page - 1);
    if (VirtualAlloc(static_cast<std::byte*>(mapped.base) + first, to - first, win::mem_commit,
                     win::page_readwrite) == nullptr) {
        win::set_win32(error, GetLastError(), "committing " + std::to_string(to) + " bytes");
    }
}

/// The run of committed pages from the base: what has been grown, in pages.
inline std::uint64_t os::extent(const Handle&, const Mapped& mapped, Error& error)
{
    return win::committed_run(mapped, error);
}

/// The whole section is mapped already: pages become usable as they are committed.
inline void os::map_more(const Handle&, Mapped& mapped, const MapRequest& request, Error&)
{
    const std::size_t usable = std::min(win::whole_pages(request.length), mapped.reserved);
    mapped.length = std::max(mapped.length, usable);
}

namespace win {

/// When `process` started, in 100 ns units since 1601; 0 if unknown.
inline std::uint64_t started(void* process) noexcept
{
    FileTime times[4]{};
    if (GetProcessTimes(process, reinterpret_cast<_FILETIME*>(&times[0]),
                        reinterpret_cast<_FILETIME*>(&times[1]),
                        reinterpret_cast<_FILETIME*>(&times[2]),
                        reinterpret_cast<_FILETIME*>(&times[3])) == 0) {
        return 0;
    }
    return std::uint64_t{times[0].high} << 32 | times[0].low;
}

} // namespace win

inline ProcessMark os::this_process() noexcept
{
    return {GetCurrentProcessId(), 0, win::started(GetCurrentProcess())};
}

inline bool os::process_gone(const ProcessMark& mark) noexcept
{
    const Handle process(OpenProcess(win::synchronize | win::process_query_limited, 0, mark.id));
    if (!process) {
        return GetLastError() == win::invalid_parameter; // no process has this id
    }
    if (WaitForSingleObject(process.native(), 0) == 0) {
        return true; // it has exited; this handle alone keeps its id
    }
    const std::uint64_t start = win::started(process.native());
    return start != 0 && mark.start != 0 && start != mark.start;
}

} // namespace filemap::detail
