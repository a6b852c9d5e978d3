// tests/posix_names_test.cpp - the POSIX naming protocol against hostile and careless users.
//
// DESIGN.md, "The shared boundary": any local user may put anything at any
// free name in /dev/shm, take the locks its access allows and change the
// mode of its own objects; any process may die at any instruction. Each case
// below was reproduced against the first protocol and is a real second
// process here (a child that drops to `nobody` where another user is
// needed: CI runs as root).
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using filemap::Access;
using filemap::Channel;
using filemap::FileMapping;
using filemap::Lifetime;
using filemap::NamedMutex;
using filemap::Options;
using std::filesystem::perms;

namespace {

constexpr auto at_once = std::chrono::seconds(1);

std::string shm_path(const std::string& name)
{
    return "/dev/shm/" + name;
}

Options persistent()
{
    Options options;
    options.lifetime = Lifetime::persistent;
    return options;
}

template <class Call>
std::error_code code_of(Call&& call)
{
    std::error_code ec;
    call(ec);
    return ec;
}

/// `call(ec)` returns within a second with `expected`.
template <class Call>
void refused_at_once(Call&& call, std::errc expected)
{
    const auto start = std::chrono::steady_clock::now();
    const std::error_code ec = code_of(call);
    CHECK(ec == expected);
    CHECK(std::chrono::steady_clock::now() - start < at_once);
}

// As nobody: ACTION NAME...
//  lock-exclusive NAME: open read-only, flock(LOCK_EX) and an OFD read lock; hold until told.
//  squat NAME MODE: create the object (persistent, MODE), say "ready"; on "flip", flip the
//      mode between 0666 and 0600 until told to stop.
//  hold-scoped NAME MODE: create a scoped object with MODE, say "ready", hold until killed.
//  create NAME: create a scoped object; report the code.
const test::Role nobody_does("nobody-does", [](const test::Args& args) {
    if (!test::become_nobody()) {
        return 2;
    }
    const std::string& action = args.at(0);
    const std::string& name = args.at(1);
    if (action == "lock-exclusive") {
        const int fd = ::open(shm_path(name).c_str(), O_RDONLY | O_CLOEXEC);
        struct flock lock {};
        lock.l_type = F_RDLCK;
        lock.l_len = 1;
        const bool locked =
            fd >= 0 && ::flock(fd, LOCK_EX) == 0 && ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
        lock.l_type = F_WRLCK; // a reader cannot take a write lock: that is the point
        const bool write_refused = ::fcntl(fd, F_OFD_SETLK, &lock) != 0;
        test::tell(locked && write_refused ? "locked" : "failed");
        test::hear();
        return 0;
    }
    if (action == "squat") {
        const mode_t mode = static_cast<mode_t>(std::stoi(args.at(2), nullptr, 8));
        const int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, mode);
        if (fd < 0 || ::ftruncate(fd, 4096) != 0 || ::fchmod(fd, mode) != 0) {
            return 3;
        }
        test::tell("ready");
        if (test::hear() == "flip") {
            // Flip until the parent closes our standard input.
            std::thread flipper([fd] {
                for (int i = 0; i < 200000; ++i) {
                    ::fchmod(fd, (i & 1) != 0 ? 0666 : 0600);
                }
            });
            test::hear();
            flipper.join();
        }
        return 0;
    }
    if (action == "hold-scoped") {
        Options options;
        options.permissions = static_cast<perms>(std::stoi(args.at(2), nullptr, 8));
        const FileMapping held = FileMapping::create(name, 4096, options);
        test::tell("ready");
        test::hear();
        return 0;
    }
    std::error_code ec;
    FileMapping::create(name, 4096, ec);
    test::tell(test::code_line(ec));
    return 0;
});

// As ourselves: hold a scoped object with MODE until killed.
const test::Role hold_with_mode("hold-with-mode", [](const test::Args& args) {
    Options options;
    options.permissions = static_cast<perms>(std::stoi(args.at(1), nullptr, 8));
    const FileMapping held = FileMapping::create(args.at(0), 4096, options);
    test::tell("ready");
    test::hear();
    return 0;
});

// As ourselves: create a persistent object of SIZE with 512 MiB of address
// space left (above what is mapped already, which a sanitizer makes large);
// report the code.
const test::Role create_limited("create-limited", [](const test::Args& args) {
    unsigned long long pages = 0;
    if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(statm, "%llu", &pages) != 1) {
            pages = 0;
        }
        std::fclose(statm);
    }
    const rlim_t room = pages * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (512ull << 20);
    const rlimit limit{room, room};
    ::setrlimit(RLIMIT_AS, &limit);
    Options options = persistent();
    options.reserve = args.at(2) == "reserve";
    std::error_code ec;
    FileMapping::create(args.at(0), std::stoull(args.at(1)), options, ec);
    test::tell(test::code_line(ec));
    return 0;
});

} // namespace

TEST_CASE("what is not a shared memory object at a name is refused at once, never waited on",
          "[posix_names]")
{
    const std::string fifo = test::unique_name("fifo");
    REQUIRE(::mkfifo(shm_path(fifo).c_str(), 0666) == 0);
    const std::string directory = test::unique_name("directory");
    std::filesystem::create_directory(shm_path(directory));
    const std::string link = test::unique_name("symlink");
    const std::string target = test::unique_name("target");
    FileMapping pointed = FileMapping::create(target, 64);
    std::filesystem::create_symlink(shm_path(target), shm_path(link));
    const std::string socket_name = test::unique_name("socket");
    const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    shm_path(socket_name).copy(address.sun_path, sizeof address.sun_path - 1);
    REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);

    for (const std::string& name : {fifo, directory, link, socket_name}) {
        INFO(name);
        refused_at_once([&](std::error_code& ec) { FileMapping::create(name, 64, ec); },
                        std::errc::file_exists);
        refused_at_once(
            [&](std::error_code& ec) { FileMapping::open(name, Access::read_only, ec); },
            std::errc::invalid_argument);
        refused_at_once([&](std::error_code& ec) { FileMapping::open(name, ec); },
                        std::errc::invalid_argument);
        refused_at_once([&](std::error_code& ec) { FileMapping::open_or_create(name, 64, ec); },
                        std::errc::invalid_argument);
        refused_at_once([&](std::error_code& ec) { Channel::create(name, 64, ec); },
                        std::errc::file_exists);
        refused_at_once([&](std::error_code& ec) { NamedMutex::open_or_create(name, ec); },
                        std::errc::invalid_argument);
    }
    // A file mapping of a FIFO is refused the same way.
    refused_at_once(
        [&](std::error_code& ec) { FileMapping::map_file(shm_path(fifo), Access::read_only, ec); },
        std::errc::invalid_argument);
    CHECK(test::thrown_what([&] { FileMapping::open(fifo); }).find("not a shared memory object") !=
          std::string::npos);
    CHECK(pointed.is_open()); // the symlink's target was never touched
    ::close(sock);
    for (const std::string& name : {fifo, directory, link, socket_name}) {
        std::filesystem::remove(shm_path(name));
    }
}

TEST_CASE("a user who can only read cannot wedge the owner's close, create or open",
          "[posix_names]")
{
    const std::string name = test::unique_name("wedge");
    Options readable;
    readable.permissions =
        perms::owner_read | perms::owner_write | perms::group_read | perms::others_read;
    FileMapping ours = FileMapping::create(name, 4096, readable);
    test::Child reader = test::Child::role("nobody-does", {"lock-exclusive", name});
    REQUIRE(reader.read_line() == "locked");

    // The reader keeps the object alive (any holder does), but blocks nothing.
    const auto start = std::chrono::steady_clock::now();
    FileMapping again = FileMapping::open(name);
    again.close();
    ours.close();
    CHECK(std::chrono::steady_clock::now() - start < at_once);
    refused_at_once([&](std::error_code& ec) { FileMapping::create(name, 4096, ec); },
                    std::errc::file_exists);
    reader.say("go");
    CHECK(reader.wait() == 0);
    // Its reader gone, the name is stale and the next create reclaims it.
    CHECK(FileMapping::create(name, 4096).created());
}

TEST_CASE("a failed persistent create leaves nothing at the name", "[posix_names]")
{
    for (const auto& [size, reserve] :
         {std::pair<std::string, std::string>{"1073741824", "reserve"},
          std::pair<std::string, std::string>{"9223372036854775807", "sparse"}}) {
        INFO(size << " " << reserve);
        const std::string name = test::unique_name("failed");
        test::Child child = test::Child::role("create-limited", {name, size, reserve});
        const std::error_code ec = test::code_from_line(child.read_line());
        CHECK(child.wait() == 0);
        CHECK((ec == std::errc::not_enough_memory || ec == std::errc::invalid_argument));
        CHECK_FALSE(std::filesystem::exists(shm_path(name)));
        CHECK(FileMapping::create(name, 64, persistent()).created());
        CHECK(FileMapping::remove(name));
    }
}

TEST_CASE("a zero-filled object is not a NamedMutex or Channel, said at once", "[posix_names]")
{
    const std::string name = test::unique_name("zeroed");
    FileMapping zeroed = FileMapping::create(name, 65536);
    refused_at_once([&](std::error_code& ec) { NamedMutex::open(name, ec); },
                    std::errc::invalid_argument);
    refused_at_once([&](std::error_code& ec) { Channel::open(name, ec); },
                    std::errc::invalid_argument);
    refused_at_once([&](std::error_code& ec) { NamedMutex::open_or_create(name, ec); },
                    std::errc::invalid_argument);
}

TEST_CASE("a stale scoped object its owner cannot read or write is reclaimed", "[posix_names]")
{
    for (const std::string mode : {"200", "400", "000"}) {
        INFO("mode " << mode);
        // As nobody (root would ignore the mode): its own object, its holder killed.
        const std::string name = test::unique_name("unreadable");
        test::Child holder = test::Child::role("nobody-does", {"hold-scoped", name, mode});
        REQUIRE(holder.read_line() == "ready");
        holder.kill();
        holder.wait();
        test::Child creator = test::Child::role("nobody-does", {"create", name});
        CHECK_FALSE(test::code_from_line(creator.read_line()));
        CHECK(creator.wait() == 0);
        CHECK_FALSE(test::exists(name)); // and the new one died with its creator
    }
}

TEST_CASE("our last close never removes another object that took our name", "[posix_names]")
{
    const std::string name = test::unique_name("renamed");
    FileMapping ours = FileMapping::create(name, 64);
    // Someone moves our entry aside, and another program creates the name.
    std::filesystem::rename(shm_path(name), shm_path(name + ".old"));
    const int other = ::shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    REQUIRE(other >= 0);
    REQUIRE(::ftruncate(other, 4096) == 0);
    ::close(other);
    ours.close(); // the last holder of *our* object: it must not unlink theirs
    CHECK(std::filesystem::exists(shm_path(name)));
    CHECK(FileMapping::open(name).size() == 4096);
    std::filesystem::remove(shm_path(name));
    std::filesystem::remove(shm_path(name + ".old"));
}

TEST_CASE("open_or_create never adopts another user's object, whatever its mode", "[posix_names]")
{
    for (const std::string mode : {"600", "666"}) {
        const std::string name = test::unique_name("squatted");
        test::Child squatter = test::Child::role("nobody-does", {"squat", name, mode});
        REQUIRE(squatter.read_line() == "ready");
        const std::string what =
            test::thrown_what([&] { FileMapping::open_or_create(name, 4096); });
        CHECK(what.find("Permission denied") != std::string::npos);
        CHECK(what.find("uid 65534") != std::string::npos);
        // Sharing on purpose is open(): by name, with the object's permissions.
        CHECK(FileMapping::open(name, Access::read_only).size() == 4096);
        squatter.say("done");
        CHECK(squatter.wait() == 0);
        std::filesystem::remove(shm_path(name));
    }
    // A squatter flipping its mode while we try, again and again.
    const std::string name = test::unique_name("flipping");
    test::Child squatter = test::Child::role("nobody-does", {"squat", name, "600"});
    REQUIRE(squatter.read_line() == "ready");
    squatter.say("flip");
    int adopted = 0;
    for (int i = 0; i < 2000; ++i) {
        std::error_code ec;
        adopted += FileMapping::open_or_create(name, 4096, ec).is_open() ? 1 : 0;
        CHECK((!ec || ec == std::errc::permission_denied));
    }
    CHECK(adopted == 0);
    squatter.say("stop");
    CHECK(squatter.wait() == 0);
    std::filesystem::remove(shm_path(name));
}

TEST_CASE("without O_TMPFILE the fallback creates atomically too and leaves nothing behind",
          "[posix_names]")
{
    filemap::detail::posix::unnamed_creation.store(0); // as where O_TMPFILE or /proc is missing
    const std::string name = test::unique_name("fallback");
    {
        FileMapping scoped = FileMapping::create(name, 4096);
        scoped.write("fallback");
        CHECK(FileMapping::open(name).read_string() == "fallback");
        CHECK(test::thrown_code([&] { FileMapping::create(name, 64); }) == std::errc::file_exists);
        FileMapping::create(name + "-p", 64, persistent());
        NamedMutex mutex = NamedMutex::create(name + "-m");
        CHECK(mutex.try_lock());
        mutex.unlock();
    }
    CHECK_FALSE(test::exists(name));
    CHECK(FileMapping::remove(name + "-p"));
    filemap::detail::posix::unnamed_creation.store(-1);
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
        CHECK(entry.path().filename().string().rfind(".filemap-", 0) != 0);
    }
}
