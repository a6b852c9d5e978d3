// tests/posix_lifetime_test.cpp - how scoped and persistent objects look on
// POSIX: the /dev/shm entry, the marker, fork, and objects made by others.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <filesystem>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

using filemap::Access;
using filemap::FileMapping;
using filemap::Lifetime;
using filemap::Options;

namespace {

bool in_dev_shm(const std::string& name)
{
    return std::filesystem::exists("/dev/shm/" + name);
}

mode_t mode_of(const std::string& name)
{
    struct stat st {};
    REQUIRE(::stat(("/dev/shm/" + name).c_str(), &st) == 0);
    return st.st_mode;
}

Options persistent()
{
    Options options;
    options.lifetime = Lifetime::persistent;
    return options;
}

// Loops open_or_create / check / close on a name for a while; reports
// sizes that were wrong and errors that are not documented.
const test::Role churn("churn", [](const test::Args& args) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(args.at(1)));
    int rounds = 0;
    int bad = 0;
    while (std::chrono::steady_clock::now() < until) {
        std::error_code ec;
        FileMapping mapping = FileMapping::open_or_create(args.at(0), 4096, ec);
        if (ec || mapping.size() != 4096) {
            ++bad;
            continue;
        }
        mapping.write_value(rounds, 64);
        ++rounds;
    }
    test::tell(std::to_string(rounds) + " " + std::to_string(bad));
    return 0;
});

} // namespace

TEST_CASE("persistent objects outlive their handles until removed", "[posix_lifetime]")
{
    const std::string name = test::unique_name("persistent");
    FileMapping::create(name, 64, persistent()).write("still here");
    CHECK(FileMapping::open(name).read_string() == "still here");
    CHECK(FileMapping::remove(name));
    CHECK_FALSE(FileMapping::remove(name));
    std::error_code ec = std::make_error_code(std::errc::io_error);
    CHECK_FALSE(FileMapping::remove(name, ec));
    CHECK_FALSE(ec);
    CHECK_FALSE(test::exists(name));
}

TEST_CASE("remove takes the name, holders keep their memory", "[posix_lifetime]")
{
    const std::string name = test::unique_name("removed");
    FileMapping holder = FileMapping::create(name, 64);
    holder.write("mine");
    CHECK(FileMapping::remove(name));
    CHECK_FALSE(test::exists(name));
    CHECK(holder.read_string() == "mine");
    FileMapping fresh = FileMapping::create(name, 32); // the name is free for a new object
    CHECK(fresh.read_string().empty());
    holder.close(); // must not remove the new object that now has the name
    CHECK(test::exists(name));
}

TEST_CASE("the last close leaves nothing in /dev/shm", "[posix_lifetime]")
{
    const std::string name = test::unique_name("entry");
    FileMapping first = FileMapping::create(name, 64);
    FileMapping second = FileMapping::open(name);
    CHECK(in_dev_shm(name));
    first.close();
    CHECK(in_dev_shm(name));
    second.close();
    CHECK_FALSE(in_dev_shm(name));
}

TEST_CASE("scoped objects carry the sticky marker, persistent ones do not", "[posix_lifetime]")
{
    const std::string scoped = test::unique_name("marked");
    const std::string lasting = test::unique_name("unmarked");
    FileMapping a = FileMapping::create(scoped, 64);
    FileMapping b = FileMapping::create(lasting, 64, persistent());
    CHECK((mode_of(scoped) & S_ISVTX) != 0);
    CHECK((mode_of(lasting) & S_ISVTX) == 0);
    b.close();
    CHECK(FileMapping::remove(lasting));
}

TEST_CASE("a killed last holder leaves an entry that the next user reclaims", "[posix_lifetime]")
{
    const std::string name = test::unique_name("reclaim");
    test::Child child = test::Child::role("create-and-hold", {name});
    REQUIRE(child.read_line() == "created");
    child.kill();
    child.wait();
    CHECK(in_dev_shm(name)); // nobody ran a close
    std::error_code ec;
    FileMapping::open(name, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK_FALSE(in_dev_shm(name)); // the open reclaimed it
}

TEST_CASE("a forked copy exiting does not remove its parent's name", "[posix_lifetime]")
{
    const std::string name = test::unique_name("fork");
    FileMapping mine = FileMapping::create(name, 64);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        {
            FileMapping copy = std::move(mine);
        } // runs the close of an inherited handle
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(in_dev_shm(name));
    FileMapping other = FileMapping::open(name); // still live, not stale
    other.close();
    CHECK(in_dev_shm(name)); // we still hold it
    mine.close();
    CHECK_FALSE(in_dev_shm(name));
}

TEST_CASE("objects made by other programs are never removed by our close", "[posix_lifetime]")
{
    const std::string name = test::unique_name("foreign");
    const int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 4096) == 0);
    ::close(fd);

    FileMapping opened = FileMapping::open(name);
    CHECK(opened.size() == 4096);
    opened.write("seen");
    opened.close();
    CHECK(in_dev_shm(name));
    CHECK(FileMapping::open_or_create(name, 1024).read_string() == "seen");
    CHECK(in_dev_shm(name));
    CHECK(FileMapping::remove(name));
}

TEST_CASE("opening a persistent object does not make it scoped", "[posix_lifetime]")
{
    const std::string name = test::unique_name("lasting");
    FileMapping::create(name, 64, persistent()).write("lasts");
    test::Child child = test::Child::role("hold", {name});
    CHECK(child.read_line() == "held lasts");
    child.say("go");
    CHECK(child.wait() == 0);
    CHECK(in_dev_shm(name));
    CHECK(FileMapping::remove(name));
}

TEST_CASE("an empty object is refused rather than mapped", "[posix_lifetime]")
{
    const std::string name = test::unique_name("empty");
    const int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::error_code ec;
    CHECK_FALSE(FileMapping::open(name, ec).is_open());
    CHECK(ec == std::errc::invalid_argument);
    CHECK(FileMapping::remove(name));
}

TEST_CASE("processes racing open_or_create and close never see a half-built object",
          "[posix_lifetime]")
{
    const std::string name = test::unique_name("race");
    std::vector<test::Child> children;
    for (int i = 0; i < 3; ++i) {
        children.push_back(test::Child::role("churn", {name, "1500"}));
    }
    long total = 0;
    for (auto& child : children) {
        const std::string report = child.read_line();
        INFO("child reported: " << report);
        const auto space = report.find(' ');
        REQUIRE(space != std::string::npos);
        total += std::stol(report.substr(0, space));
        CHECK(report.substr(space + 1) == "0"); // no wrong size, no error
        CHECK(child.wait() == 0);
    }
    CHECK(total > 0);
    CHECK_FALSE(in_dev_shm(name));
}

TEST_CASE("reserve turns a full /dev/shm into no_space_on_device at create, not SIGBUS later",
          "[posix_lifetime]")
{
    struct statvfs fs {};
    REQUIRE(::statvfs("/dev/shm", &fs) == 0);
    const auto too_much =
        static_cast<std::size_t>(fs.f_bavail) * fs.f_frsize + (std::size_t{1} << 30);
    const std::string name = test::unique_name("full");
    std::error_code ec;
    CHECK_FALSE(FileMapping::create(name, too_much, ec).is_open());
    CHECK(ec == std::errc::no_space_on_device);
    CHECK(test::thrown_what([&] { FileMapping::create(name, too_much); }).find("reserving") !=
          std::string::npos);
    CHECK_FALSE(in_dev_shm(name)); // nothing half-made is left

    Options sparse;
    sparse.reserve = false; // the caller's choice: sparse, so it cannot fail here
    FileMapping lazy = FileMapping::create(name, too_much, sparse, ec);
    CHECK_FALSE(ec);
    CHECK(lazy.size() == too_much);
}

TEST_CASE("dontneed drops only this process's pages: shared contents stay", "[posix_lifetime]")
{
    FileMapping mapping = FileMapping::create(test::unique_name("dontneed"), 1 << 20);
    mapping.write("kept", 500000);
    mapping.advise(filemap::Advice::dontneed);
    CHECK(mapping.read_string(500000) == "kept");
}

TEST_CASE("huge_pages asks the kernel for transparent huge pages", "[posix_lifetime]")
{
    Options options;
    options.huge_pages = true;
    FileMapping mapping = FileMapping::create(test::unique_name("huge"), 4 << 20, options);
    mapping.write("big pages", (4 << 20) - 100);
    CHECK(mapping.read_string((4 << 20) - 100) == "big pages");
}
