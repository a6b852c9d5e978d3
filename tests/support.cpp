// tests/support.cpp - child processes and unique names, for POSIX and Windows.
#include "support.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>
#include <utility>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <cstdint>
#include <windows.h>
#else
#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
extern char** environ;
#endif

namespace test {

namespace {

std::map<std::string, int (*)(const Args&)>& roles()
{
    static std::map<std::string, int (*)(const Args&)> all;
    return all;
}

long process_id()
{
#if defined(_WIN32)
    return static_cast<long>(::GetCurrentProcessId());
#else
    return static_cast<long>(::getpid());
#endif
}

std::string name_prefix()
{
    return "fmt-" + std::to_string(process_id()) + "-";
}

} // namespace

std::string unique_name(const std::string& what)
{
    static std::atomic<int> counter{0};
    return name_prefix() + what + "-" + std::to_string(counter++);
}

std::vector<std::string> leftovers()
{
    std::vector<std::string> found;
#if !defined(_WIN32)
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(name_prefix(), 0) == 0) {
            found.push_back(name);
        }
    }
#endif
    return found;
}

bool exists(const std::string& name)
{
    std::error_code ec;
    filemap::FileMapping::open(name, filemap::Access::read_only, ec);
    return !ec;
}

std::size_t opened_size(std::size_t asked)
{
#if defined(_WIN32)
    static const bool wine =
        ::GetProcAddress(::GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr;
    if (wine) {
        return (asked + 4095) / 4096 * 4096;
    }
#endif
    return asked;
}

std::size_t open_handles()
{
#if defined(_WIN32)
    DWORD count = 0;
    ::GetProcessHandleCount(::GetCurrentProcess(), &count);
    return count;
#else
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/self/fd")) {
        ++count;
    }
    return count;
#endif
}

void reclaim_stale()
{
#if !defined(_WIN32)
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
        // Only a dead run's names: a live one (ctest -j) may be keeping a
        // stale entry on purpose, to test what the next user does with it.
        const std::string name = entry.path().filename().string();
        if (name.rfind("fmt-", 0) != 0) {
            continue;
        }
        const long pid = std::strtol(name.c_str() + 4, nullptr, 10);
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
            exists(name);
        }
    }
#endif
}

Role::Role(const char* name, int (*body)(const Args&))
{
    roles()[name] = body;
}

void tell(const std::string& line)
{
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

std::string hear()
{
    std::string line;
    std::getline(std::cin, line);
    return line;
}

std::string code_line(const std::error_code& ec)
{
    return "code " + std::to_string(ec.value());
}

std::error_code code_from_line(const std::string& line)
{
    if (line.rfind("code ", 0) != 0) {
        throw std::runtime_error("expected a code line from the child, got \"" + line + "\"");
    }
    return {std::stoi(line.substr(5)), std::generic_category()};
}

int run_role(int argc, char** argv)
{
#if defined(__linux__)
    // A parent that dies mid-test (a crash, a CTest timeout) takes its
    // children along, instead of leaving them to hold names forever.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    const auto found = roles().find(argv[2]);
    if (found == roles().end()) {
        std::fprintf(stderr, "no child role %s\n", argv[2]);
        return 99;
    }
    try {
        return found->second(Args(argv + 3, argv + argc));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child %s: %s\n", argv[2], e.what());
        return 98;
    }
}

Child::Child(Child&& other) noexcept
    : id_(std::exchange(other.id_, -1)), input_(std::exchange(other.input_, -1)),
      output_(std::exchange(other.output_, -1)), reaped_(other.reaped_), status_(other.status_)
{
}

#if defined(_WIN32)

namespace {

std::wstring self_path()
{
    std::wstring path(32768, L'\0');
    path.resize(::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size())));
    return path;
}

std::wstring widen(const std::string& text)
{
    const int length =
        ::MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
    std::wstring wide(static_cast<std::size_t>(length), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), wide.data(),
                          length);
    return wide;
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

#else

std::string self_path()
{
    return std::filesystem::read_symlink("/proc/self/exe").string();
}

Child Child::program(const Args& argv)
{
    int out[2];
    int in[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    std::vector<char*> raw;
    for (const auto& arg : argv) {
        raw.push_back(const_cast<char*>(arg.c_str()));
    }
    raw.push_back(nullptr);
    pid_t pid = -1;
    const int result = ::posix_spawnp(&pid, raw[0], &actions, nullptr, raw.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(in[0]);
    if (result != 0) {
        ::close(out[0]);
        ::close(in[1]);
        throw std::system_error(result, std::generic_category(), "posix_spawn " + argv[0]);
    }
    return Child::from_native(pid, in[1], out[0]);
}

Child Child::role(const std::string& role, const Args& args)
{
    Args argv{self_path(), "--child", role};
    argv.insert(argv.end(), args.begin(), args.end());
    return program(argv);
}

Child::~Child()
{
    if (id_ != -1 && !reaped_) {
        kill();
        wait();
    }
    for (const long long fd : {input_, output_}) {
        if (fd >= 0) {
            ::close(static_cast<int>(fd));
        }
    }
}

void Child::say(const std::string& line)
{
    const std::string text = line + "\n";
    if (::write(static_cast<int>(input_), text.data(), text.size()) !=
        static_cast<ssize_t>(text.size())) {
        throw std::system_error(errno, std::generic_category(), "writing to the child");
    }
}

std::string Child::read_line()
{
    std::string line;
    char c = 0;
    while (::read(static_cast<int>(output_), &c, 1) == 1) {
        if (c == '\n') {
            return line;
        }
        line += c;
    }
    return line;
}

int Child::wait()
{
    if (!reaped_) {
        int status = 0;
        while (::waitpid(static_cast<pid_t>(id_), &status, 0) == -1 && errno == EINTR) {
        }
        reaped_ = true;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return status_;
}

void Child::kill()
{
    ::kill(static_cast<pid_t>(id_), SIGKILL);
}

int duplicate(int handle)
{
    return ::fcntl(handle, F_DUPFD_CLOEXEC, 0);
}

bool is_open(int handle)
{
    return ::fcntl(handle, F_GETFD) != -1;
}

int unmappable_handle()
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe");
    }
    ::close(fds[1]);
    return fds[0];
}

void close(int handle)
{
    ::close(handle);
}

std::string handle_arg(filemap::FileMapping::native_handle_type handle)
{
    return std::to_string(handle);
}

filemap::FileMapping::native_handle_type handle_from_arg(const std::string& text)
{
    return std::stoi(text);
}

#endif

} // namespace test
