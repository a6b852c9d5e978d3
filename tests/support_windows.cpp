// tests/support_windows.cpp - the Windows half of tests/support.hpp:
// CreateProcessW children, pipes and handle counts.
#include "support.hpp"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <windows.h>

#include <shellapi.h> // after <windows.h>, which it needs

namespace test {

long process_id()
{
    return static_cast<long>(::GetCurrentProcessId());
}

Args arguments(int, char**)
{
    int count = 0;
    wchar_t** wide = ::CommandLineToArgvW(::GetCommandLineW(), &count);
    Args args;
    for (int i = 0; i < count; ++i) {
        const std::wstring_view arg(wide[i]);
        args.push_back(from_utf16(
            std::u16string_view(reinterpret_cast<const char16_t*>(arg.data()), arg.size())));
    }
    ::LocalFree(wide);
    return args;
}

void become_child() {}

std::vector<std::string> leftovers()
{
    return {}; // Windows names die with their handles: nothing can be left
}

std::size_t opened_size(std::size_t asked)
{
    static const bool wine =
        ::GetProcAddress(::GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr;
    return wine ? (asked + 4095) / 4096 * 4096 : asked;
}

std::size_t open_handles()
{
    DWORD count = 0;
    ::GetProcessHandleCount(::GetCurrentProcess(), &count);
    return count;
}

void reclaim_stale() {}

std::wstring widen(const std::string& text)
{
    const int length =
        ::MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
    std::wstring wide(static_cast<std::size_t>(length), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), wide.data(),
                          length);
    return wide;
}

namespace {

std::wstring self_path()
{
    std::wstring path(32768, L'\0');
    path.resize(::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size())));
    return path;
}

/// One argument quoted for CommandLineToArgvW's rules.
std::wstring quote(const std::wstring& arg)
{
    std::wstring out = L"\"";
    std::size_t slashes = 0;
    for (const wchar_t c : arg) {
        if (c == L'\\') {
            ++slashes;
            continue;
        }
        out.append(c == L'"' ? slashes * 2 + 1 : slashes, L'\\');
        slashes = 0;
        out += c;
    }
    out.append(slashes * 2, L'\\');
    return out + L"\"";
}

Child spawn(const std::wstring& program, const Args& args);

} // namespace

Child Child::program(const Args& argv)
{
    return spawn(widen(argv.at(0)), Args(argv.begin() + 1, argv.end()));
}

Child Child::role(const std::string& role, const Args& args)
{
    Args all{"--child", role};
    all.insert(all.end(), args.begin(), args.end());
    return spawn(self_path(), all);
}

namespace {

Child spawn(const std::wstring& program, const Args& args)
{
    SECURITY_ATTRIBUTES inheritable{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    HANDLE out_read = nullptr, out_write = nullptr, in_read = nullptr, in_write = nullptr;
    if (!::CreatePipe(&out_read, &out_write, &inheritable, 0) ||
        !::CreatePipe(&in_read, &in_write, &inheritable, 0)) {
        throw std::runtime_error("CreatePipe failed");
    }
    // Our ends stay ours; the child inherits its ends (and any inheritable mapping).
    ::SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
    ::SetHandleInformation(in_write, HANDLE_FLAG_INHERIT, 0);
    std::wstring command = quote(program);
    for (const auto& arg : args) {
        command += L" " + quote(widen(arg));
    }
    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = in_read;
    startup.hStdOutput = out_write;
    startup.hStdError = ::GetStdHandle(STD_ERROR_HANDLE);
    PROCESS_INFORMATION process{};
    const BOOL started = ::CreateProcessW(nullptr, command.data(), nullptr, nullptr, TRUE, 0,
                                          nullptr, nullptr, &startup, &process);
    ::CloseHandle(out_write);
    ::CloseHandle(in_read);
    if (!started) {
        ::CloseHandle(out_read);
        ::CloseHandle(in_write);
        throw std::runtime_error("CreateProcessW failed: " + std::to_string(::GetLastError()));
    }
    ::CloseHandle(process.hThread);
    return Child::from_native(reinterpret_cast<long long>(process.hProcess),
                              reinterpret_cast<long long>(in_write),
                              reinterpret_cast<long long>(out_read));
}

} // namespace

Child::~Child()
{
    if (id_ != -1 && !reaped_) {
        kill();
        wait();
    }
    for (const long long handle : {input_, output_, id_}) {
        if (handle != -1) {
            ::CloseHandle(reinterpret_cast<HANDLE>(handle));
        }
    }
}

void Child::say(const std::string& line)
{
    const std::string text = line + "\n";
    DWORD written = 0;
    ::WriteFile(reinterpret_cast<HANDLE>(input_), text.data(), static_cast<DWORD>(text.size()),
                &written, nullptr);
}

std::string Child::read_line()
{
    std::string line;
    char c = 0;
    DWORD got = 0;
    while (::ReadFile(reinterpret_cast<HANDLE>(output_), &c, 1, &got, nullptr) && got == 1) {
        if (c == '\n') {
            return line;
        }
        if (c != '\r') {
            line += c;
        }
    }
    return line;
}

int Child::wait()
{
    if (!reaped_) {
        ::WaitForSingleObject(reinterpret_cast<HANDLE>(id_), INFINITE);
        DWORD code = 0;
        ::GetExitCodeProcess(reinterpret_cast<HANDLE>(id_), &code);
        status_ = static_cast<int>(code);
        reaped_ = true;
    }
    return status_;
}

void die_abruptly()
{
    std::fflush(stdout);
    for (;;) {
        ::TerminateProcess(::GetCurrentProcess(), 128 + 9);
    }
}

void Child::kill()
{
    ::TerminateProcess(reinterpret_cast<HANDLE>(id_), 128 + 9);
}

void* duplicate(void* handle)
{
    HANDLE copy = nullptr;
    ::DuplicateHandle(::GetCurrentProcess(), handle, ::GetCurrentProcess(), &copy, 0, FALSE,
                      DUPLICATE_SAME_ACCESS);
    return copy;
}

bool is_open(void* handle)
{
    DWORD flags = 0;
    return ::GetHandleInformation(handle, &flags) != 0;
}

void* unmappable_handle()
{
    return ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
}

void close(void* handle)
{
    ::CloseHandle(handle);
}

std::string handle_arg(void* handle)
{
    return std::to_string(reinterpret_cast<std::uintptr_t>(handle));
}

void* handle_from_arg(const std::string& text)
{
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(std::stoull(text)));
}

} // namespace test
