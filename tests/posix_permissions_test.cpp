// tests/posix_permissions_test.cpp - exact modes whatever the umask, and other
// users kept out: owner-only by default, squatted names refused. The other
// user is a child that drops to `nobody`, so these run as root (as in CI).
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <sys/stat.h>
#include <unistd.h>

using filemap::Access;
using filemap::FileMapping;
using filemap::Lifetime;
using filemap::Options;
using std::filesystem::perms;

namespace {

mode_t permission_bits(const std::string& name)
{
    struct stat st {};
    REQUIRE(::stat(("/dev/shm/" + name).c_str(), &st) == 0);
    return st.st_mode & 0777;
}

// As `nobody`: open the name read_write / read_only, or create it open to all.
const test::Role as_nobody("as-nobody", [](const test::Args& args) {
    if (!test::become_nobody()) {
        return 2;
    }
    std::error_code ec;
    if (args.at(0) == "create-open-to-all") {
        Options options;
        options.lifetime = Lifetime::persistent;
        options.permissions = perms::owner_read | perms::owner_write | perms::group_read |
                              perms::group_write | perms::others_read | perms::others_write;
        FileMapping::create(args.at(1), 4096, options, ec);
    } else if (args.at(0) == "create") {
        FileMapping::create(args.at(1), 4096, ec);
    } else if (args.at(0) == "open_or_create") {
        FileMapping::open_or_create(args.at(1), 4096, ec);
    } else {
        FileMapping::open(args.at(1),
                          args.at(0) == "open-ro" ? Access::read_only : Access::read_write, ec);
    }
    test::tell(test::code_line(ec));
    return 0;
});

// As ourselves: create a scoped object everyone may read and write, say
// "ready", and hold it until killed.
const test::Role hold_open_to_all("hold-open-to-all", [](const test::Args& args) {
    Options options;
    options.permissions = perms::owner_read | perms::owner_write | perms::group_read |
                          perms::group_write | perms::others_read | perms::others_write;
    const FileMapping held = FileMapping::create(args.at(0), 4096, options);
    test::tell("ready");
    test::hear();
    return 0;
});

std::error_code as_nobody_code(const std::string& action, const std::string& name)
{
    test::Child child = test::Child::role("as-nobody", {action, name});
    const std::string line = child.read_line();
    REQUIRE(child.wait() == 0);
    return test::code_from_line(line);
}

/// Sets the umask for one scope.
struct Umask {
    mode_t old;
    explicit Umask(mode_t mask) : old(::umask(mask)) {}
    ~Umask() { ::umask(old); }
};

} // namespace

TEST_CASE("new objects get exactly the asked permissions, whatever the umask",
          "[posix_permissions]")
{
    const std::string name = test::unique_name("mode");
    SECTION("owner-only by default, even with an empty umask")
    {
        Umask open_umask(0);
        FileMapping mapping = FileMapping::create(name, 64);
        CHECK(permission_bits(name) == 0600);
    }
    SECTION("group and others bits are kept though the umask would remove them")
    {
        Umask strict_umask(0077);
        Options options;
        options.permissions =
            perms::owner_read | perms::owner_write | perms::group_read | perms::others_read;
        FileMapping mapping = FileMapping::open_or_create(name, 64, options);
        CHECK(permission_bits(name) == 0644);
    }
}

TEST_CASE("another user cannot open an owner-only object", "[posix_permissions]")
{
    if (::geteuid() != 0) {
        WARN("not root: cannot start a child as another user; run as root to check this");
        return;
    }
    const std::string name = test::unique_name("private");
    FileMapping mine = FileMapping::create(name, 64);
    CHECK(as_nobody_code("open-rw", name) == std::errc::permission_denied);
    CHECK(as_nobody_code("open-ro", name) == std::errc::permission_denied);
}

TEST_CASE("others' bits are honoured exactly", "[posix_permissions]")
{
    if (::geteuid() != 0) {
        WARN("not root: cannot start a child as another user; run as root to check this");
        return;
    }
    const std::string name = test::unique_name("readable");
    Options options;
    options.permissions = perms::owner_read | perms::owner_write | perms::others_read;
    FileMapping mine = FileMapping::create(name, 64, options);
    CHECK_FALSE(as_nobody_code("open-ro", name));
    CHECK(as_nobody_code("open-rw", name) == std::errc::permission_denied);
}

TEST_CASE("a name squatted by another user is never adopted", "[posix_permissions]")
{
    if (::geteuid() != 0) {
        WARN("not root: cannot start a child as another user; run as root to check this");
        return;
    }
    const std::string name = test::unique_name("squat");
    REQUIRE_FALSE(as_nobody_code("create-open-to-all", name));

    std::error_code ec;
    CHECK_FALSE(FileMapping::create(name, 4096, ec).is_open());
    CHECK(ec == std::errc::file_exists);
    CHECK_FALSE(FileMapping::open_or_create(name, 4096, ec).is_open());
    CHECK(ec == std::errc::permission_denied);
    CHECK(test::thrown_what([&] {
              FileMapping::open_or_create(name, 4096);
          }).find("another user") != std::string::npos);
    CHECK(FileMapping::open(name, ec).is_open()); // asked for by name, it opens
    CHECK(FileMapping::remove(name));
}

TEST_CASE("a stale object of another user that we cannot remove is permission_denied",
          "[posix_permissions]")
{
    // Root's scoped object, open to all, whose holder died: stale, but in
    // sticky /dev/shm only its owner (or root) may unlink it.
    const std::string name = test::unique_name("stale-foreign");
    test::Child holder = test::Child::role("hold-open-to-all", {name});
    REQUIRE(holder.read_line() == "ready");
    holder.kill();
    holder.wait();
    CHECK(as_nobody_code("create", name) == std::errc::permission_denied);
    // Final at once: open_or_create neither spins nor adopts it.
    CHECK(as_nobody_code("open_or_create", name) == std::errc::permission_denied);
    // Its owner's next open reclaims it and finds the name free.
    std::error_code ec;
    FileMapping::open(name, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK_FALSE(test::exists(name));
}
