// tests/posix_growth_test.cpp - growable objects on Linux: what other programs
// see (st_size, the user.filemap.max_size attribute), a full /dev/shm at the
// grow, and peers that rewrite the attribute or the size.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

using filemap::Access;
using filemap::FileMapping;
using filemap::Options;

namespace {

constexpr std::size_t page = 4096;

Options growable(std::size_t max_size, filemap::Lifetime lifetime = filemap::Lifetime::scoped)
{
    Options options;
    options.max_size = max_size;
    options.lifetime = lifetime;
    return options;
}

std::string shm_path(const std::string& name)
{
    return "/dev/shm/" + name;
}

/// The attribute as another program reads it; "" if it has none.
std::string recorded_limit(const std::string& name)
{
    char text[64] = {};
    const ssize_t length =
        ::getxattr(shm_path(name).c_str(), "user.filemap.max_size", text, sizeof text);
    return length < 0 ? "" : std::string(text, static_cast<std::size_t>(length));
}

// NAME VALUE: rewrites NAME's max_size attribute as a peer with write
// access may ("-" removes it), or with VALUE "size=N" truncates the object
// to N bytes. Says "done" or the errno.
const test::Role attribute_writer("attribute-writer", [](const test::Args& args) {
    const std::string path = shm_path(args.at(0));
    const std::string& value = args.at(1);
    int result = 0;
    if (value == "-") {
        result = ::removexattr(path.c_str(), "user.filemap.max_size");
    } else if (value.rfind("size=", 0) == 0) {
        result = ::truncate(path.c_str(), static_cast<off_t>(std::stoll(value.substr(5))));
    } else {
        result = ::setxattr(path.c_str(), "user.filemap.max_size", value.data(), value.size(), 0);
    }
    test::tell(result == 0 ? "done" : std::strerror(errno));
    return 0;
});

/// In a private mount namespace (as root; else in a user namespace of its
/// own), over a 1 MiB tmpfs at /dev/shm. Says why it could not.
std::string enter_small_dev_shm()
{
    if (::unshare(CLONE_NEWNS) != 0) {
        const std::string uid_map = "0 " + std::to_string(::geteuid()) + " 1";
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            return std::string("unshare: ") + std::strerror(errno);
        }
        const int fd = ::open("/proc/self/uid_map", O_WRONLY);
        if (fd < 0 || ::write(fd, uid_map.data(), uid_map.size()) < 0) {
            return "uid_map";
        }
        ::close(fd);
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=1m,mode=1777") != 0) {
        return std::string("mount: ") + std::strerror(errno);
    }
    return "";
}

// NAME: grows an object in a 1 MiB /dev/shm until it is full. Says
// "<half MiB grow> <too-far grow> <size after> <st_size after>".
const test::Role small_shm_grower("small-shm-grower", [](const test::Args& args) {
    if (const std::string why = enter_small_dev_shm(); !why.empty()) {
        test::tell("no namespace: " + why);
        return 0;
    }
    FileMapping mapping =
        FileMapping::create(args.at(0), 64 * 1024, growable(std::size_t{64} << 20));
    std::error_code half;
    std::error_code full;
    mapping.grow(512 * 1024, half);
    mapping.grow(std::size_t{4} << 20, full);
    mapping.write_value(std::uint8_t{7}, mapping.size() - 1); // every byte it has is backed
    struct stat st {};
    ::fstat(mapping.native_handle(), &st);
    test::tell(test::code_line(half) + " " + test::code_line(full) + " " +
               std::to_string(mapping.size()) + " " + std::to_string(st.st_size));
    return 0;
});

} // namespace

TEST_CASE("other programs read a grown object's size with fstat and its limit as an attribute",
          "[posix_growth]")
{
    const std::string name = test::unique_name("visible");
    FileMapping mapping = FileMapping::create(name, 10000, growable(1 << 20));
    CHECK(recorded_limit(name) == "1048576");
    mapping.grow(123457);
    struct stat st {};
    REQUIRE(::stat(shm_path(name).c_str(), &st) == 0);
    CHECK(st.st_size == 123457);
    CHECK(st.st_blocks * 512 >= 123457); // backed, not sparse

    FileMapping fixed = FileMapping::create(test::unique_name("fixed"), 10000);
    CHECK(recorded_limit(std::string(fixed.name())).empty());
}

TEST_CASE("a grow that /dev/shm cannot back is no_space_on_device at the grow, never SIGBUS",
          "[posix_growth]")
{
    const std::string name = test::unique_name("full");
    test::Child child = test::Child::role("small-shm-grower", {name});
    const std::string said = child.read_line();
    CHECK(child.wait() == 0);
    INFO(said);
    if (said.rfind("no namespace", 0) != 0) {
        // code_line of no error, no_space_on_device, then the size kept.
        CHECK(said == test::code_line({}) + " " +
                          test::code_line(std::make_error_code(std::errc::no_space_on_device)) +
                          " 524288 524288");
    } else { // no namespaces here: fill the real /dev/shm instead
        struct statvfs fs {};
        REQUIRE(::statvfs("/dev/shm", &fs) == 0);
        const std::size_t too_much =
            static_cast<std::size_t>(fs.f_bavail) * fs.f_frsize + (std::size_t{1} << 30);
        FileMapping mapping = FileMapping::create(name, page, growable(too_much));
        std::error_code ec;
        mapping.grow(too_much, ec);
        CHECK(ec == std::errc::no_space_on_device);
        CHECK(mapping.size() == page);
    }
    CHECK_FALSE(test::exists(name));
}

TEST_CASE("a peer that rewrites max_size or the size gets clear errors, never a fault",
          "[posix_growth]")
{
    const std::string name = test::unique_name("hostile");
    FileMapping mapping = FileMapping::create(name, 2 * page, growable(64 * page));
    mapping.write("mine", 0);
    const auto rewrite = [&](const std::string& value) {
        test::Child peer = test::Child::role("attribute-writer", {name, value});
        CHECK(peer.read_line() == "done");
        CHECK(peer.wait() == 0);
    };
    std::error_code ec;
    for (const std::string bad :
         {"garbage", "", "0", "-5", "123456789012345678901234567890", "000000000000001048576"}) {
        INFO("max_size attribute: \"" << bad << "\"");
        rewrite(bad);
        CHECK_FALSE(FileMapping::open(name, ec).is_open());
        CHECK(ec == std::errc::invalid_argument);
    }
    rewrite("100"); // less than the object already is
    CHECK(test::thrown_what([&] { FileMapping::open(name); }).find("corrupt max_size") !=
          std::string::npos);
    rewrite("18446744073709551615"); // more than any address space
    CHECK_FALSE(FileMapping::open(name, ec).is_open());
    CHECK(ec == std::errc::not_enough_memory);

    rewrite("-"); // no attribute: the object is a fixed one to openers
    FileMapping opened = FileMapping::open(name);
    CHECK(opened.max_size() == 0);
    CHECK(opened.read_string(0) == "mine");

    // The size past max_size: those who hold it map what their range holds.
    rewrite(std::to_string(64 * page));
    FileMapping follower = FileMapping::open(name, Access::read_only);
    rewrite("size=" + std::to_string(80 * page));
    CHECK(follower.refresh() == 64 * page);
    CHECK(mapping.refresh() == 64 * page);
    CHECK(follower.read_string(0) == "mine");
    CHECK_FALSE(FileMapping::open(name, ec).is_open()); // and openers call it corrupt
    CHECK(ec == std::errc::invalid_argument);
}

TEST_CASE("Python reads a persistent object that filemap grew", "[posix_growth]")
{
    const std::string name = test::unique_name("py-grown");
    FileMapping mapping =
        FileMapping::create(name, page, growable(1 << 20, filemap::Lifetime::persistent));
    mapping.write("start", 0);
    mapping.grow(300000);
    mapping.write("grown", 299000);
    mapping.close();
    test::Child python = test::Child::program({"python3", "-c", R"(
import os, sys
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(sys.argv[1])
resource_tracker.unregister(shm._name, "shared_memory")
limit = os.getxattr("/dev/shm/" + sys.argv[1], "user.filemap.max_size").decode()
print(shm.size, bytes(shm.buf[:5]).decode(), bytes(shm.buf[299000:299005]).decode(), limit,
      flush=True)
shm.close()
)",
                                               name});
    CHECK(python.read_line() == "300000 start grown 1048576");
    CHECK(python.wait() == 0);
    CHECK(FileMapping::remove(name));
}
