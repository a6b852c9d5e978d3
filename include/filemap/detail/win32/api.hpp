// filemap/detail/win32/api.hpp - the Win32 functions filemap calls, declared without <windows.h>.
//
// The functions are declared with exactly the signatures <windows.h> gives
// them, on x64 and on x86 (so both may appear in one translation unit, in
// either order), which keeps every <windows.h> macro - min, max, CreateFile,
// ... - out of the user's code. Wide (W) functions throughout. Also here:
// the few constants used, Win32 error codes translated into std::errc
// (libstdc++'s system_category maps several of them surprisingly), and the
// functions looked up at run time because they are not in every Windows or
// in MinGW's import libraries.
#pragma once

#include <filemap/detail/utf8.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

struct _SECURITY_ATTRIBUTES;
struct _MEMORY_BASIC_INFORMATION;
struct _FILETIME;
struct HINSTANCE__;
union _LARGE_INTEGER;

#if defined(_MSC_VER)
#pragma comment(lib, "advapi32") // ConvertStringSecurityDescriptorToSecurityDescriptorW
#endif

namespace filemap::detail::win {
/// FARPROC: INT_PTR (__stdcall*)(), pointer-sized on every architecture.
using FarProc = std::intptr_t(__stdcall*)();
/// SIZE_T: unsigned __int64 on x64, unsigned long on x86 (not unsigned int).
#if defined(_WIN64)
using SizeT = unsigned long long;
#else
using SizeT = unsigned long;
#endif
} // namespace filemap::detail::win

extern "C" {
__declspec(dllimport) void* __stdcall CreateFileMappingW(void*, _SECURITY_ATTRIBUTES*,
                                                         unsigned long, unsigned long,
                                                         unsigned long, const wchar_t*);
__declspec(dllimport) void* __stdcall OpenFileMappingW(unsigned long, int, const wchar_t*);
__declspec(dllimport) void* __stdcall MapViewOfFile(void*, unsigned long, unsigned long,
                                                    unsigned long, filemap::detail::win::SizeT);
__declspec(dllimport) int __stdcall UnmapViewOfFile(const void*);
__declspec(dllimport) int __stdcall FlushViewOfFile(const void*, filemap::detail::win::SizeT);
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
__declspec(dllimport) int __stdcall ResetEvent(void*);
__declspec(dllimport) unsigned long __stdcall WaitForSingleObject(void*, unsigned long);
__declspec(dllimport) int __stdcall GetFileSizeEx(void*, _LARGE_INTEGER*);
__declspec(dllimport) unsigned long __stdcall GetCurrentThreadId(void);
__declspec(dllimport) unsigned long __stdcall GetCurrentProcessId(void);
__declspec(dllimport) void* __stdcall OpenProcess(unsigned long, int, unsigned long);
__declspec(dllimport) int __stdcall GetProcessTimes(void*, _FILETIME*, _FILETIME*, _FILETIME*,
                                                    _FILETIME*);
__declspec(dllimport) filemap::detail::win::SizeT __stdcall GetLargePageMinimum(void);
__declspec(dllimport) void* __stdcall VirtualAlloc(void*, filemap::detail::win::SizeT,
                                                   unsigned long, unsigned long);
__declspec(dllimport) filemap::detail::win::SizeT
    __stdcall VirtualQuery(const void*, _MEMORY_BASIC_INFORMATION*, filemap::detail::win::SizeT);
}

namespace filemap::detail::win {

// The few constants used, with their <windows.h> names in comments.
inline constexpr unsigned long page_readonly = 0x02;                // PAGE_READONLY
inline constexpr unsigned long page_readwrite = 0x04;               // PAGE_READWRITE
inline constexpr unsigned long sec_commit = 0x8000000;              // SEC_COMMIT
inline constexpr unsigned long sec_reserve = 0x4000000;             // SEC_RESERVE
inline constexpr unsigned long mem_commit = 0x1000;                 // MEM_COMMIT
inline constexpr unsigned long sec_large_pages = 0x80000000UL;      // SEC_LARGE_PAGES
inline constexpr unsigned long file_map_large_pages = 0x20000000UL; // FILE_MAP_LARGE_PAGES
inline constexpr unsigned long privilege_not_held = 1314;           // ERROR_PRIVILEGE_NOT_HELD
inline constexpr unsigned long section_query = 0x0001;              // SECTION_QUERY
inline constexpr unsigned long file_map_copy = 0x0001;              // FILE_MAP_COPY
inline constexpr unsigned long file_map_write = 0x0002;             // FILE_MAP_WRITE
inline constexpr unsigned long file_map_read = 0x0004;              // FILE_MAP_READ
inline constexpr unsigned long file_map_execute = 0x0020;           // FILE_MAP_EXECUTE
inline constexpr unsigned long generic_read = 0x80000000UL;         // GENERIC_READ
inline constexpr unsigned long generic_write = 0x40000000UL;        // GENERIC_WRITE
inline constexpr unsigned long share_all = 0x7;            // FILE_SHARE_READ | WRITE | DELETE
inline constexpr unsigned long open_existing = 3;          // OPEN_EXISTING
inline constexpr unsigned long attribute_normal = 0x80;    // FILE_ATTRIBUTE_NORMAL
inline constexpr unsigned long attribute_directory = 0x10; // FILE_ATTRIBUTE_DIRECTORY
inline constexpr unsigned long invalid_attributes = 0xFFFFFFFFUL; // INVALID_FILE_ATTRIBUTES
inline constexpr unsigned long handle_flag_inherit = 0x1;         // HANDLE_FLAG_INHERIT
inline constexpr unsigned long synchronize = 0x00100000UL;        // SYNCHRONIZE
inline constexpr unsigned long process_query_limited = 0x1000; // PROCESS_QUERY_LIMITED_INFORMATION
inline constexpr unsigned long invalid_parameter = 87;         // ERROR_INVALID_PARAMETER
inline constexpr unsigned long already_exists = 183;           // ERROR_ALREADY_EXISTS
inline void* const invalid_handle = reinterpret_cast<void*>(static_cast<std::intptr_t>(-1));

/// Allocation granularity: 64 KiB on every Windows version and architecture.
inline constexpr std::size_t granularity = 65536;
/// The page size of x86, x64 and ARM64 Windows.
inline constexpr std::size_t page = 4096;

/// Layout of FILETIME: 100 ns units, in two halves.
struct FileTime {
    unsigned long low;
    unsigned long high;
};

/// Layout of MEMORY_BASIC_INFORMATION on x86 and x64 (x64's PartitionId
/// sits in what is padding before RegionSize).
struct MemoryBasicInformation {
    void* base;
    void* allocation_base;
    unsigned long allocation_protect;
    SizeT region_size;
    unsigned long state;
    unsigned long protect;
    unsigned long type;
};

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

/// `size` rounded up to whole large pages (GetLargePageMinimum); 0, with
/// `error` set, where there are none or the rounding overflows.
inline std::size_t whole_large_pages(std::size_t size, Error& error)
{
    const auto large = static_cast<std::size_t>(GetLargePageMinimum());
    if (large == 0) {
        error.set(std::errc::not_supported, "this system has no large pages");
        return 0;
    }
    const std::size_t rest = size % large;
    if (rest != 0 && size > static_cast<std::size_t>(-1) - (large - rest)) {
        error.set(std::errc::invalid_argument, "the size overflows when rounded to large pages");
        return 0;
    }
    return rest == 0 ? size : size + (large - rest);
}

/// A failure to make or map a SEC_LARGE_PAGES section: a missing privilege
/// says which one, since no other cause is as likely or as fixable.
inline void set_large_pages_failure(Error& error, unsigned long code, const char* what)
{
    if (code == privilege_not_held) {
        error.set(std::errc::permission_denied,
                  "large pages need the SeLockMemoryPrivilege privilege (\"Lock pages in "
                  "memory\"), which this process does not hold");
    } else {
        set_win32(error, code, what);
    }
}

/// The UTF-16 form Windows takes of a name the rules have checked (UTF-8).
inline std::wstring widen(std::string_view text)
{
    return utf8_to_utf16<wchar_t>(text);
}

inline std::wstring wide_name(const Name& name)
{
    return widen(name.prefix) + widen(name.base);
}

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

} // namespace filemap::detail::win
