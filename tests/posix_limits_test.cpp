// tests/posix_limits_test.cpp - running out of descriptors or address space
// gives the documented error, and leaves nothing behind.
// (A full /dev/shm is in posix_lifetime_test.cpp.)
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include <sys/resource.h>

using filemap::FileMapping;

namespace {

// BASE: lowers its descriptor limit to a few more than it has open, then
// creates BASE-0, BASE-1, ... until that fails; then tries an open and a
// view. Says each error code, and how many creates succeeded.
const test::Role few_descriptors("few-descriptors", [](const test::Args& args) {
    const auto open_now =
        static_cast<rlim_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                          std::filesystem::directory_iterator{}));
    struct rlimit limit {};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = open_now + 4;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return 2;
    }
    std::vector<FileMapping> held;
    std::error_code ec;
    while (!ec && held.size() < 100) {
        held.push_back(
            FileMapping::create(args.at(0) + "-" + std::to_string(held.size()), 4096, ec));
    }
    held.pop_back(); // the one that failed
    test::tell(std::to_string(held.size()) + " created");
    test::tell(test::code_line(ec));
    FileMapping::open(args.at(0) + "-0", ec);
    test::tell(test::code_line(ec));
    held.front().view(0, 16, filemap::Access::read_write, ec);
    test::tell(test::code_line(ec));
    return 0;
});

// NAME: creates a 200 TiB sparse object (x86-64 programs have 128 TiB of
// address space); says the error code, then the message.
const test::Role map_too_much("map-too-much", [](const test::Args& args) {
    filemap::Options sparse;
    sparse.reserve = false; // the object may be huge; mapping it cannot be
    constexpr std::size_t too_big = std::size_t{200} << 40;
    std::error_code ec;
    FileMapping::create(args.at(0), too_big, sparse, ec);
    test::tell(test::code_line(ec));
    test::tell(test::thrown_what([&] { FileMapping::create(args.at(0), too_big, sparse); }));
    return 0;
});

} // namespace

TEST_CASE("running out of file descriptors is too_many_files_open, nothing half-made",
          "[posix_limits]")
{
    const std::string base = test::unique_name("fds");
    test::Child child = test::Child::role("few-descriptors", {base});
    const std::string created = child.read_line();
    INFO("the child: " << created);
    const int made = std::stoi(created);
    CHECK(made >= 1);
    CHECK(test::code_from_line(child.read_line()) == std::errc::too_many_files_open); // create
    CHECK(test::code_from_line(child.read_line()) == std::errc::too_many_files_open); // open
    CHECK(test::code_from_line(child.read_line()) == std::errc::too_many_files_open); // view
    CHECK(child.wait() == 0);
    for (int index = 0; index <= made; ++index) { // the child's closes removed them all
        CHECK_FALSE(std::filesystem::exists("/dev/shm/" + base + "-" + std::to_string(index)));
    }
}

TEST_CASE("a mapping larger than the address space is not_enough_memory", "[posix_limits]")
{
    const std::string name = test::unique_name("no-room");
    // In a child: valgrind, which may run this binary, refuses such a size
    // itself (EINVAL) before the kernel can; children run without it.
    test::Child child = test::Child::role("map-too-much", {name});
    CHECK(test::code_from_line(child.read_line()) == std::errc::not_enough_memory);
    CHECK(child.read_line() ==
          "filemap: create \"" + name + "\": Not enough memory: mapping 219902325555200 bytes");
    CHECK(child.wait() == 0);
    CHECK_FALSE(std::filesystem::exists("/dev/shm/" + name));
}
