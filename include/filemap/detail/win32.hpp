// filemap/detail/win32.hpp - every Win32 call filemap makes, and nothing else.
//
// Exposes the same names as detail/posix.hpp. It does not include
// <windows.h>: the functions it needs are declared below with exactly the
// signatures <windows.h> gives them (so both may appear in one translation
// unit, in either order), which keeps every <windows.h> macro - min, max,
// CreateFile, ... - out of the user's code. Wide (W) functions throughout.
// Win32 error codes are translated into std::errc values here, because
// libstdc++'s system_category maps several of them surprisingly.
#pragma once

#include <filemap/error.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

struct _SECURITY_ATTRIBUTES;
struct HINSTANCE__;

#if defined(_MSC_VER)
#pragma comment(lib, "advapi32") // ConvertStringSecurityDescriptorToSecurityDescriptorW
#endif

namespace filemap::detail::win {
using FarProc = long long(__stdcall*)(); // FARPROC
}

extern "C" {
__declspec(dllimport) void* __stdcall CreateFileMappingW(void*, _SECURITY_ATTRIBUTES*,
                                                         unsigned long, unsigned long,
                                                         unsigned long, const wchar_t*);
__declspec(dllimport) void* __stdcall OpenFileMappingW(unsigned long, int, const wchar_t*);
__declspec(dllimport) void* __stdcall MapViewOfFile(void*, unsigned long, unsigned long,
                                                    unsigned long, unsigned long long);
__declspec(dllimport) int __stdcall UnmapViewOfFile(const void*);
__declspec(dllimport) int __stdcall FlushViewOfFile(const void*, unsigned long long);
__declspec(dllimport) int __stdcall FlushFileBuffers(void*);
__declspec(dllimport) int __stdcall CloseHandle(void*);
__declspec(dllimport) unsigned long __stdcall GetLastError(void);
__declspec(dllimport) int __stdcall SetHandleInformation(void*, unsigned long, unsigned long);
__declspec(dllimport) int __stdcall GetHandleInformation(void*, unsigned long*);
__declspec(dllimport) void* __stdcall CreateFileW(const wchar_t*, unsigned long, unsigned long,
                                                  _SECURITY_ATTRIBUTES*, unsigned long,
                                                  unsigned long, void*);
__declspec(dllimport) unsigned long __stdcall GetFileAttributesW(const wchar_t*);
__declspec(dllimport) HINSTANCE__* __stdcall GetModuleHandleW(const wchar_t*);
__declspec(dllimport) filemap::detail::win::FarProc
    __stdcall GetProcAddress(HINSTANCE__*, const char*);
__declspec(dllimport) void* __stdcall GetCurrentProcess(void);
__declspec(dllimport) int __stdcall DuplicateHandle(void*, void*, void*, void**, unsigned long, int,
                                                    unsigned long);
__declspec(dllimport) void* __stdcall LocalFree(void*);
__declspec(dllimport) int __stdcall ConvertStringSecurityDescriptorToSecurityDescriptorW(
    const wchar_t*, unsigned long, void**, unsigned long*);
__declspec(dllimport) int __stdcall ConvertSidToStringSidW(void*, wchar_t**);
__declspec(dllimport) int __stdcall OpenProcessToken(void*, unsigned long, void**);
__declspec(dllimport) void* __stdcall CreateMutexW(_SECURITY_ATTRIBUTES*, int, const wchar_t*);
__declspec(dllimport) int __stdcall ReleaseMutex(void*);
__declspec(dllimport) void* __stdcall CreateEventW(_SECURITY_ATTRIBUTES*, int, int, const wchar_t*);
__declspec(dllimport) int __stdcall SetEvent(void*);
__declspec(dllimport) unsigned long __stdcall WaitForSingleObject(void*, unsigned long);
}

namespace filemap::detail {

using native_handle_type = void*;

namespace win {

// The few constants used, with their <windows.h> names in comments.
inline constexpr unsigned long page_readonly = 0x02;         // PAGE_READONLY
inline constexpr unsigned long page_readwrite = 0x04;        // PAGE_READWRITE
inline constexpr unsigned long sec_commit = 0x8000000;       // SEC_COMMIT
inline constexpr unsigned long section_query = 0x0001;       // SECTION_QUERY
inline constexpr unsigned long file_map_copy = 0x0001;       // FILE_MAP_COPY
inline constexpr unsigned long file_map_write = 0x0002;      // FILE_MAP_WRITE
inline constexpr unsigned long file_map_read = 0x0004;       // FILE_MAP_READ
inline constexpr unsigned long file_map_execute = 0x0020;    // FILE_MAP_EXECUTE
inline constexpr unsigned long generic_read = 0x80000000UL;  // GENERIC_READ
inline constexpr unsigned long generic_write = 0x40000000UL; // GENERIC_WRITE
inline constexpr unsigned long share_all = 0x7;              // FILE_SHARE_READ | WRITE | DELETE
inline constexpr unsigned long open_existing = 3;            // OPEN_EXISTING
inline constexpr unsigned long attribute_normal = 0x80;      // FILE_ATTRIBUTE_NORMAL
inline constexpr unsigned long attribute_directory = 0x10;   // FILE_ATTRIBUTE_DIRECTORY
inline constexpr unsigned long invalid_attributes = 0xFFFFFFFFUL; // INVALID_FILE_ATTRIBUTES
inline constexpr unsigned long handle_flag_inherit = 0x1;         // HANDLE_FLAG_INHERIT
inline constexpr unsigned long already_exists = 183;              // ERROR_ALREADY_EXISTS
inline void* const invalid_handle = reinterpret_cast<void*>(static_cast<std::intptr_t>(-1));

/// Allocation granularity: 64 KiB on every Windows version and architecture.
inline constexpr std::size_t granularity = 65536;

/// Layout of SECURITY_ATTRIBUTES.
struct SecurityAttributes {
    unsigned long length;
    void* descriptor;
    int inherit;
};

/// Layout of SECTION_BASIC_INFORMATION (ntdll; not in MinGW's import libraries).
struct SectionBasicInformation {
    void* base;
    unsigned long attributes;
    long long size;
};

inline unsigned long high(std::uint64_t value) noexcept
{
    return static_cast<unsigned long>(value >> 32);
}
inline unsigned long low(std::uint64_t value) noexcept
{
    return static_cast<unsigned long>(value & 0xFFFFFFFFu);
}

/// Records a Win32 error as the std::errc value it means on every platform;
/// codes without one stay in system_category rather than be guessed.
inline void set_win32(Error& error, unsigned long code, std::string detail = {})
{
    std::errc value{};
    switch (code) {
    case 2:                                                      // ERROR_FILE_NOT_FOUND
    case 3: value = std::errc::no_such_file_or_directory; break; // ERROR_PATH_NOT_FOUND
    case 5:                                                      // ERROR_ACCESS_DENIED
    case 1314: value = std::errc::permission_denied; break;      // ERROR_PRIVILEGE_NOT_HELD
    case 80:                                                     // ERROR_FILE_EXISTS
    case 183: value = std::errc::file_exists; break;             // ERROR_ALREADY_EXISTS
    case 4: value = std::errc::too_many_files_open; break;       // ERROR_TOO_MANY_OPEN_FILES
    case 6: value = std::errc::bad_file_descriptor; break;       // ERROR_INVALID_HANDLE
    case 8:                                                      // ERROR_NOT_ENOUGH_MEMORY
    case 14:                                                     // ERROR_OUTOFMEMORY
    case 1450: value = std::errc::not_enough_memory; break;      // ERROR_NO_SYSTEM_RESOURCES
    case 112:                                                    // ERROR_DISK_FULL
    case 1455: value = std::errc::no_space_on_device; break;     // ERROR_COMMITMENT_LIMIT
    case 32:                                                     // ERROR_SHARING_VIOLATION
    case 33: value = std::errc::device_or_resource_busy; break;  // ERROR_LOCK_VIOLATION
    case 50: value = std::errc::not_supported; break;            // ERROR_NOT_SUPPORTED
    case 87:                                                     // ERROR_INVALID_PARAMETER
    case 123:                                                    // ERROR_INVALID_NAME
    case 1006: value = std::errc::invalid_argument; break;       // ERROR_FILE_INVALID
    default:
        error.set(std::error_code(static_cast<int>(code), std::system_category()),
                  std::move(detail));
        return;
    }
    error.set(value, std::move(detail));
}

/// A named operation failed: ERROR_INVALID_HANDLE there means the name
/// belongs to another kind of object; Global\ needs a privilege.
inline void set_named_failure(Error& error, const Name& name, unsigned long code)
{
    if (code == 6) {
        error.set(std::errc::invalid_argument,
                  "the name belongs to another kind of object (an event, a mutex, ...)");
    } else if ((code == 5 || code == 1314) && name.prefix == "Global\\") {
        error.set(std::errc::permission_denied,
                  "creating under Global\\ needs the SeCreateGlobalPrivilege privilege");
    } else {
        set_win32(error, code);
    }
}

/// Widens a name the rules have checked: ASCII only.
inline std::wstring widen(std::string_view text)
{
    return std::wstring(text.begin(), text.end());
}

inline std::wstring wide_name(const Name& name)
{
    return widen(name.prefix) + widen(name.base);
}

/// The section rights that POSIX read / write / execute bits stand for.
inline unsigned long section_rights(std::filesystem::perms read, std::filesystem::perms write,
                                    std::filesystem::perms execute, std::filesystem::perms asked)
{
    using std::filesystem::perms;
    unsigned long rights = 0;
    if ((asked & read) != perms::none) {
        rights |= file_map_read | section_query;
    }
    if ((asked & write) != perms::none) {
        rights |= file_map_write;
    }
    if ((asked & execute) != perms::none) {
        rights |= file_map_execute;
    }
    return rights;
}

/// The SID of the user running this process, as text ("S-1-5-21-...").
/// GetTokenInformation is looked up rather than declared: its parameter is
/// an enum that cannot be declared compatibly with <windows.h>.
inline std::wstring current_user_sid(Error& error)
{
    using GetTokenInformation = int(__stdcall*)(void*, int, void*, unsigned long, unsigned long*);
    static const auto get_information =
        reinterpret_cast<GetTokenInformation>(reinterpret_cast<void*>(
            GetProcAddress(GetModuleHandleW(L"advapi32.dll"), "GetTokenInformation")));
    void* token = nullptr;
    if (get_information == nullptr ||
        !OpenProcessToken(GetCurrentProcess(), 0x0008 /* TOKEN_QUERY */, &token)) {
        set_win32(error, GetLastError(), "reading the process token");
        return {};
    }
    alignas(void*) unsigned char buffer[256];
    unsigned long length = 0;
    const int got = get_information(token, 1 /* TokenUser */, buffer, sizeof buffer, &length);
    const unsigned long code = GetLastError();
    CloseHandle(token);
    wchar_t* text = nullptr;
    if (!got || !ConvertSidToStringSidW(*reinterpret_cast<void**>(buffer), &text)) {
        set_win32(error, got ? GetLastError() : code, "reading the user's SID");
        return {};
    }
    std::wstring sid(text);
    LocalFree(text);
    return sid;
}

/// A self-relative security descriptor built from POSIX permission bits:
/// full access for this process's user, group bits for the local Users group
/// (BU), others bits for Everyone (WD). Protected, so nothing is inherited.
class SecurityDescriptor {
public:
    SecurityDescriptor(std::filesystem::perms asked, Error& error)
    {
        using std::filesystem::perms;
        std::wstring sddl = L"D:P";
        const auto ace = [&](unsigned long rights, const wchar_t* who) {
            if (rights != 0) {
                sddl += L"(A;;0x" + hex(rights) + L";;;" + who + L")";
            }
        };
        const std::wstring owner = current_user_sid(error);
        if (error) {
            return;
        }
        // The owner always gets full access, as the owner of a POSIX object can
        // always chmod it; plain programs open with FILE_MAP_ALL_ACCESS.
        sddl += L"(A;;GA;;;" + owner + L")";
        ace(section_rights(perms::group_read, perms::group_write, perms::group_exec, asked), L"BU");
        ace(section_rights(perms::others_read, perms::others_write, perms::others_exec, asked),
            L"WD");
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), 1, &descriptor_,
                                                                  nullptr)) {
            set_win32(error, GetLastError(), "building the security descriptor");
        }
    }
    SecurityDescriptor(const SecurityDescriptor&) = delete;
    SecurityDescriptor& operator=(const SecurityDescriptor&) = delete;
    ~SecurityDescriptor()
    {
        if (descriptor_ != nullptr) {
            LocalFree(descriptor_);
        }
    }
    SecurityAttributes attributes() const noexcept
    {
        return {sizeof(SecurityAttributes), descriptor_, 0};
    }

private:
    static std::wstring hex(unsigned long value)
    {
        std::wstring text;
        do {
            text.insert(text.begin(), L"0123456789ABCDEF"[value % 16]);
            value /= 16;
        } while (value != 0);
        return text;
    }
    void* descriptor_ = nullptr;
};

/// PrefetchVirtualMemory (Windows 8+), looked up; skipped where absent.
inline void prefetch(void* address, std::size_t bytes) noexcept
{
    struct Range {
        void* address;
        std::size_t bytes;
    } range{address, bytes};
    using Prefetch = int(__stdcall*)(void*, std::uintptr_t, Range*, unsigned long);
    static const auto function = reinterpret_cast<Prefetch>(reinterpret_cast<void*>(
        GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "PrefetchVirtualMemory")));
    if (function != nullptr) {
        function(GetCurrentProcess(), 1, &range, 0);
    }
}

/// ntdll's NtQuerySection, looked up once.
inline long query_section(void* section, SectionBasicInformation& info) noexcept
{
    using Query = long(__stdcall*)(void*, int, void*, unsigned long, unsigned long*);
    static const auto query = reinterpret_cast<Query>(
        reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQuerySection")));
    if (query == nullptr) {
        return -1;
    }
    return query(section, 0 /* SectionBasicInformation */, &info, sizeof info, nullptr);
}

} // namespace win

inline constexpr bool scoped_supported = true; // Windows' own semantics

/// An owned section handle, and for file mappings the file handle as well
/// (FlushFileBuffers needs it).
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(void* section, void* file = nullptr) noexcept : section_(section), file_(file)
    {
    }
    Handle(Handle&& other) noexcept { swap(other); }
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

    void* get() const noexcept { return section_; }
    void* file() const noexcept { return file_; }
    explicit operator bool() const noexcept { return section_ != nullptr; }

    /// Gives up ownership of the section handle.
    void* release() noexcept { return std::exchange(section_, nullptr); }
    void* release_file() noexcept { return std::exchange(file_, nullptr); }

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

inline void unmap(void* base, std::size_t) noexcept
{
    UnmapViewOfFile(base);
}

/// FlushViewOfFile, then FlushFileBuffers for a file: on disk when it returns.
inline void flush_range(void* base, std::size_t length, const Handle& handle, Error& error)
{
    if (!FlushViewOfFile(base, length)) {
        win::set_win32(error, GetLastError(), "FlushViewOfFile");
    } else if (handle.file() != nullptr && !FlushFileBuffers(handle.file())) {
        win::set_win32(error, GetLastError(), "FlushFileBuffers");
    }
}

} // namespace filemap::detail

#include <filemap/detail/region.hpp>

namespace filemap::detail {

/// Maps [offset, offset + size) of `handle`; the offset need not be aligned.
inline Region map_view(const Handle& handle, std::uint64_t offset, std::size_t size, Access access,
                       bool prefault, Error& error, bool huge_pages = false)
{
    if (huge_pages) {
        error.set(std::errc::not_supported,
                  "large pages need SEC_LARGE_PAGES and SeLockMemoryPrivilege at create");
        return {};
    }
    const auto skip = static_cast<std::size_t>(offset % win::granularity);
    const std::uint64_t start = offset - skip;
    const unsigned long rights = access == Access::read_only    ? win::file_map_read
                                 : access == Access::read_write ? win::file_map_write
                                                                : win::file_map_copy;
    void* base =
        MapViewOfFile(handle.get(), rights, win::high(start), win::low(start), skip + size);
    if (base == nullptr) {
        win::set_win32(error, GetLastError(), "MapViewOfFile");
        return {};
    }
    if (prefault) {
        win::prefetch(base, skip + size);
    }
    return Region(base, skip + size, skip, size);
}

/// Windows has no read-ahead hints for views: willneed prefetches,
/// dontneed discards this process's copies, the others change nothing.
inline void advise(std::byte* data, std::size_t size, Advice advice, Error& error)
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

/// A second handle to the same section (and file), keeping it alive alone.
inline Handle duplicate_handle(const Handle& handle, Error& error)
{
    void* copies[2] = {nullptr, nullptr};
    void* originals[2] = {handle.get(), handle.file()};
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

/// The size of the section behind `handle`: exact on Windows, page-rounded
/// under Wine (NtQuerySection, never the VirtualQuery region).
inline std::size_t object_size(const Handle& handle, Error& error)
{
    win::SectionBasicInformation info{};
    const long status = win::query_section(handle.get(), info);
    if (status != 0) {
        if (static_cast<unsigned long>(status) == 0xC0000024UL) { // STATUS_OBJECT_TYPE_MISMATCH
            error.set(std::errc::invalid_argument, "the handle is not a file mapping");
        } else {
            error.set(std::errc::bad_file_descriptor, "NtQuerySection");
        }
        return 0;
    }
    return static_cast<std::size_t>(info.size);
}

inline unsigned long open_rights(Access access) noexcept
{
    return win::section_query |
           (access == Access::read_write ? win::file_map_write | win::file_map_read
                                         : win::file_map_read);
}

/// CreateFileMappingW of a paging-file section; `existed` reports
/// ERROR_ALREADY_EXISTS (then the handle is the existing object's).
inline Handle create_section(const Name& name, std::size_t size, const Options& options,
                             bool& existed, Error& error)
{
    if (options.lifetime == Lifetime::persistent) {
        error.set(std::errc::not_supported, "Windows names always live as long as their handles");
        return {};
    }
    win::SecurityDescriptor descriptor(options.permissions, error);
    if (error) {
        return {};
    }
    win::SecurityAttributes attributes = descriptor.attributes();
    // Paging-file sections are always committed: SEC_RESERVE would need
    // VirtualAlloc before each first touch, so `reserve` cannot be relaxed.
    Handle handle(CreateFileMappingW(win::invalid_handle,
                                     reinterpret_cast<_SECURITY_ATTRIBUTES*>(&attributes),
                                     win::page_readwrite | win::sec_commit, win::high(size),
                                     win::low(size), win::wide_name(name).c_str()));
    const unsigned long code = GetLastError();
    if (!handle) {
        win::set_named_failure(error, name, code);
        return {};
    }
    existed = code == win::already_exists;
    return handle;
}

/// Creates a new named object; file_exists if the name is taken.
inline Handle create_named(const Name& name, std::size_t size, const Options& options, Error& error)
{
    bool existed = false;
    Handle handle = create_section(name, size, options, existed, error);
    if (existed) {
        error.set(std::errc::file_exists);
        return {};
    }
    return handle;
}

/// Opens an existing named object; never creates.
inline Handle open_named(const Name& name, Access access, Error& error)
{
    Handle handle(OpenFileMappingW(open_rights(access), 0, win::wide_name(name).c_str()));
    if (!handle) {
        win::set_named_failure(error, name, GetLastError());
    }
    return handle;
}

inline constexpr int max_rounds = 1000;

/// Opens the object if it exists, else creates it; `created` says which.
inline Handle open_or_create_named(const Name& name, std::size_t size, const Options& options,
                                   bool& created, Error& error)
{
    for (int round = 0; round < max_rounds; ++round) {
        bool existed = false;
        Handle handle = create_section(name, size, options, existed, error);
        if (error || !existed) {
            created = !error;
            return handle;
        }
        // Reopen with the rights asked for (and SECTION_QUERY for its size).
        handle.close();
        handle = open_named(name, options.access, error);
        if (error.code() != std::errc::no_such_file_or_directory) {
            created = false;
            return handle;
        }
        error.clear(); // its last holder closed it meanwhile: try again
    }
    error.set(std::errc::resource_unavailable_try_again, "the name kept changing hands");
    return {};
}

/// Windows names cannot outlive their handles, so there is nothing to remove.
inline bool remove_named(const Name&, Error& error)
{
    error.set(std::errc::not_supported, "Windows names live exactly as long as their handles");
    return false;
}

/// Never shared with other users.
inline bool exposed_to_others(const Handle&) noexcept
{
    return false;
}

/// Unnamed, paging-file backed, not inheritable until set_inheritable(true).
inline Handle create_anonymous(std::size_t size, Error& error)
{
    Handle handle(CreateFileMappingW(win::invalid_handle, nullptr,
                                     win::page_readwrite | win::sec_commit, win::high(size),
                                     win::low(size), nullptr));
    if (!handle) {
        win::set_win32(error, GetLastError());
    }
    return handle;
}

inline void set_inheritable(const Handle& handle, bool inheritable, Error& error)
{
    if (!SetHandleInformation(handle.get(), win::handle_flag_inherit,
                              inheritable ? win::handle_flag_inherit : 0)) {
        win::set_win32(error, GetLastError());
    }
}

/// Checks that `handle` is an open handle of this process.
inline void check_native(native_handle_type handle, Error& error)
{
    unsigned long flags = 0;
    if (handle == nullptr || handle == win::invalid_handle ||
        !GetHandleInformation(handle, &flags)) {
        error.set(std::errc::bad_file_descriptor);
    }
}

/// Opens the file at `path` for a mapping of `size` bytes (0: the whole
/// file); a larger size grows the file (CreateFileMapping extends it).
inline Handle open_file(const std::filesystem::path& path, Access access, std::size_t& size,
                        Error& error)
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
    Handle handle(nullptr, file);
    std::error_code ec;
    const auto file_size = std::filesystem::file_size(path, ec);
    if (ec) {
        error.set_errno(ec.value(), "reading the file size");
        return {};
    }
    if (size == 0) {
        if (file_size == 0) {
            error.set(std::errc::invalid_argument, "the file is empty; give a size to grow it");
            return {};
        }
        if (file_size > static_cast<std::uintmax_t>(static_cast<std::size_t>(-1))) {
            error.set(std::errc::not_enough_memory, "the file is larger than the address space");
            return {};
        }
        size = static_cast<std::size_t>(file_size);
    } else if (size > file_size && !writable) {
        error.set(std::errc::result_out_of_range, "the file is " + std::to_string(file_size) +
                                                      " bytes, asked for " + std::to_string(size) +
                                                      " without write access to grow it");
        return {};
    }
    void* section =
        CreateFileMappingW(file, nullptr, writable ? win::page_readwrite : win::page_readonly,
                           win::high(size), win::low(size), nullptr);
    if (section == nullptr) {
        win::set_win32(error, GetLastError());
        return {};
    }
    return Handle(section, handle.release_file());
}

} // namespace filemap::detail
