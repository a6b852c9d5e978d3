// tests/support.hpp - what every test file shares: unique names and child processes.
//
// Cross-process tests start a real second program: the test binary runs
// itself again as `filemap_tests --child ROLE ARGS...`, where ROLE is a
// function registered with test::Role. A child reports to its parent with
// lines on its standard output (test::tell), which the parent reads.
#pragma once

#include "catch.hpp"

#include <filemap/filemap.hpp>

#include <atomic>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace test {

using Args = std::vector<std::string>;

/// This process's id.
long process_id();
/// "fmt-<pid>-": what every name this process makes starts with.
std::string name_prefix();
/// This process's arguments as UTF-8 (Windows hands main() its ANSI code
/// page; the UTF-16 command line has every character).
Args arguments(int argc, char** argv);
/// UTF-8 text as UTF-16, and back: for the Windows peers' wide strings.
std::u16string to_utf16(const std::string& text);
std::string from_utf16(std::u16string_view text);
/// Windows only: UTF-8 text as the UTF-16 wide string the W functions take.
std::wstring widen(const std::string& utf8);
/// Called first in a child role (POSIX: die with the parent).
void become_child();
/// POSIX only: drops this (root) process to the `nobody` user; false if it cannot.
bool become_nobody();
/// POSIX only: the uid of `nobody`.
inline constexpr unsigned nobody_uid = 65534;

/// A name unique to this process and call: "fmt-<pid>-<what>-<n>".
std::string unique_name(const std::string& what);

/// Names this process created and did not remove: checked after the run.
std::vector<std::string> leftovers();

/// How many descriptors (POSIX) or handles (Windows) this process has open.
std::size_t open_handles();

/// Reclaims stale objects that killed test runs left behind, by opening
/// them (an open removes a scoped object whose holders all died); only
/// names of runs whose process is gone.
void reclaim_stale();

/// Registers a child role: `int role(const Args&)`, its exit code.
struct Role {
    Role(const char* name, int (*body)(const Args&));
};

/// Ends this process at once, as SIGKILL (POSIX) or TerminateProcess
/// (Windows) would: no destructor, no atexit handler runs.
[[noreturn]] void die_abruptly();
/// Arms detail/steps.hpp's hook: this process dies abruptly the first
/// time it reaches `step`, after telling the parent "dying at <step>".
void die_at_step(const char* step);

/// Writes one line to the parent and flushes.
void tell(const std::string& line);
/// Reads one line from the parent; "" when the parent closed the pipe.
std::string hear();
/// Calls `step` again and again until the parent says a line (or closes the
/// pipe): a peer that must keep going for as long as its parent needs,
/// however slowly (valgrind, a loaded machine) the parent runs.
template <class Step>
void repeat_until_told(Step step)
{
    std::atomic<bool> told{false};
    std::thread listener([&] {
        hear();
        told.store(true);
    });
    while (!told.load(std::memory_order_relaxed)) {
        step();
    }
    listener.join();
}

/// A running child process with its standard output piped to us.
class Child {
public:
    /// Runs this test binary as `--child role args...`.
    static Child role(const std::string& role, const Args& args = {});
    /// Runs any program found on PATH.
    static Child program(const Args& argv);
    /// POSIX only: another architecture's build of tests/bitness_peer.cpp,
    /// `peer`, run under qemu-user `emulator` with `args`; requires the
    /// first line it says ("bits 32", "bits 64") to be `greeting`.
    static Child foreign(const std::string& emulator, const std::string& peer, const Args& args,
                         const std::string& greeting);

    Child(Child&& other) noexcept;
    Child& operator=(Child&&) = delete;
    ~Child(); // kills and reaps a child still running

    /// The next line the child wrote, without '\n'; "" at end of output.
    std::string read_line();
    /// Sends one line to the child's standard input.
    void say(const std::string& line);
    /// Waits for the exit: the exit code, or 128 + signal number.
    int wait();
    void kill();
    /// Wraps a started process and the pipe ends (platform handles as integers).
    static Child from_native(long long id, long long input, long long output)
    {
        return Child(id, input, output);
    }

private:
    Child(long long id, long long input, long long output) : id_(id), input_(input), output_(output)
    {
    }
    long long id_ = -1;
    long long input_ = -1;
    long long output_ = -1;
    bool reaped_ = false;
    int status_ = -1;
};

/// Native handle helpers: a duplicate, whether one is open, one that
/// cannot be mapped (a pipe), and closing one.
filemap::FileMapping::native_handle_type duplicate(filemap::FileMapping::native_handle_type handle);
bool is_open(filemap::FileMapping::native_handle_type handle);
filemap::FileMapping::native_handle_type unmappable_handle();
void close(filemap::FileMapping::native_handle_type handle);

/// The integer form of a native handle, for a child's command line.
std::string handle_arg(filemap::FileMapping::native_handle_type handle);
filemap::FileMapping::native_handle_type handle_from_arg(const std::string& text);

/// How a child reports an error code in a line: its std::errc value.
std::string code_line(const std::error_code& ec);
/// The error code a child reported with code_line().
std::error_code code_from_line(const std::string& line);

/// The code of the std::system_error that `call` throws; {} if none.
template <class Call>
std::error_code thrown_code(Call&& call)
{
    try {
        call();
    } catch (const std::system_error& e) {
        return e.code();
    }
    return {};
}

/// The what() of the exception that `call` throws; "" if none.
template <class Call>
std::string thrown_what(Call&& call)
{
    try {
        call();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

/// The size an opener sees for an object created with `asked` bytes:
/// exactly that, except under Wine, which rounds sections up to a page.
std::size_t opened_size(std::size_t asked);

/// Whether a named object exists, asked without creating or holding it.
bool exists(const std::string& name);

} // namespace test
