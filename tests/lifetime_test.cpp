// tests/lifetime_test.cpp - scoped lifetime across real processes: the name
// lives while any process holds it, and dies with the last holder, even one
// killed without a chance to clean up.
#include "support.hpp"

#include <filemap/filemap.hpp>

using filemap::Access;
using filemap::FileMapping;

namespace {

// Opens the name, reports what it read, holds it until told to go.
const test::Role hold("hold", [](const test::Args& args) {
    FileMapping mapping = FileMapping::open(args.at(0), Access::read_only);
    test::tell("held " + mapping.read_string());
    test::hear();
    return 0;
});

// Creates the name, writes to it, holds it until told to go.
const test::Role create_and_hold("create-and-hold", [](const test::Args& args) {
    FileMapping mapping = FileMapping::create(args.at(0), 128);
    mapping.write("from the child");
    test::tell("created");
    test::hear();
    return 0;
});

} // namespace

TEST_CASE("a scoped name lives while another process holds it", "[lifetime]")
{
    const std::string name = test::unique_name("held");
    FileMapping mine = FileMapping::create(name, 64);
    mine.write("hello");
    test::Child child = test::Child::role("hold", {name});
    CHECK(child.read_line() == "held hello");

    mine.close();
    CHECK(test::exists(name)); // the child still holds it
    child.say("go");
    CHECK(child.wait() == 0);
    CHECK_FALSE(test::exists(name)); // the child was the last holder
}

TEST_CASE("a child's create outlives the child while we hold it", "[lifetime]")
{
    const std::string name = test::unique_name("child-made");
    test::Child child = test::Child::role("create-and-hold", {name});
    REQUIRE(child.read_line() == "created");
    FileMapping mine = FileMapping::open(name);
    child.say("go");
    CHECK(child.wait() == 0);
    CHECK(mine.read_string() == "from the child");
    CHECK(test::exists(name));
    mine.close();
    CHECK_FALSE(test::exists(name));
}

TEST_CASE("a holder killed without cleaning up does not keep the name", "[lifetime]")
{
    const std::string name = test::unique_name("killed");
    FileMapping mine = FileMapping::create(name, 64);
    test::Child child = test::Child::role("hold", {name});
    REQUIRE(child.read_line() == "held ");
    mine.close(); // the child is now the only holder
    CHECK(test::exists(name));

    child.kill();
    child.wait();
    CHECK_FALSE(test::exists(name)); // stale: treated as absent
    std::error_code ec;
    CHECK_FALSE(FileMapping::open(name, ec).is_open());
    CHECK(ec == std::errc::no_such_file_or_directory);
    FileMapping fresh = FileMapping::create(name, 32); // and the name is free again
    CHECK(fresh.created());
    CHECK(fresh.size() == 32);
}

TEST_CASE("a killed creator's name can be created again at once", "[lifetime]")
{
    const std::string name = test::unique_name("killed-creator");
    test::Child child = test::Child::role("create-and-hold", {name});
    REQUIRE(child.read_line() == "created");
    child.kill();
    child.wait();
    FileMapping again = FileMapping::create(name, 256); // not file_exists: the old one is stale
    CHECK(again.size() == 256);
    CHECK(again.read_string().empty());
}

TEST_CASE("a scoped name survives the close of a holder that is not the last", "[lifetime]")
{
    const std::string name = test::unique_name("not-last");
    FileMapping mine = FileMapping::create(name, 64);
    mine.write("stays");
    test::Child child = test::Child::role("hold", {name});
    REQUIRE(child.read_line() == "held stays");
    child.say("go");
    CHECK(child.wait() == 0);
    CHECK(FileMapping::open(name).read_string() == "stays");
}
