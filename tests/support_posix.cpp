// tests/support_posix.cpp - the POSIX half of tests/support.hpp: posix_spawn
// children, /dev/shm and /proc/self/fd.
#include "support.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace test {

long process_id()
{
    return static_cast<long>(::getpid());
}

Args arguments(int argc, char** argv)
{
    return Args(argv, argv + argc);
}

void become_child()
{
    // A parent that dies mid-test (a crash, a CTest timeout) takes its
    // children along, instead of leaving them to hold names forever.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
}

bool become_nobody()
{
    return ::setgid(nobody_uid) == 0 && ::setuid(nobody_uid) == 0;
}

std::vector<std::string> leftovers()
{
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(name_prefix(), 0) == 0) {
            found.push_back(name);
        }
    }
    return found;
}

std::size_t opened_size(std::size_t asked)
{
    return asked;
}

std::size_t open_handles()
{
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/self/fd")) {
        ++count;
    }
    return count;
}

void reclaim_stale()
{
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
}

static std::string self_path()
{
    return std::filesystem::read_symlink("/proc/self/exe").string();
}

Child Child::foreign(const std::string& emulator, const std::string& peer, const Args& args,
                     const std::string& greeting)
{
    Args argv = {emulator, peer};
    argv.insert(argv.end(), args.begin(), args.end());
    Child child = program(argv);
    REQUIRE(child.read_line() == greeting);
    return child;
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

void die_abruptly()
{
    std::fflush(stdout);
    for (;;) {
        ::kill(::getpid(), SIGKILL);
    }
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

} // namespace test
