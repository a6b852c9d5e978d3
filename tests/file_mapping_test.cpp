// tests/file_mapping_test.cpp - FileMapping's life cycle in one process:
// create / open / open_or_create / remove, state accessors, moves, close.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <algorithm>
#include <type_traits>

using filemap::Access;
using filemap::FileMapping;
using filemap::Options;

static_assert(std::is_nothrow_move_constructible_v<FileMapping>);
static_assert(std::is_nothrow_move_assignable_v<FileMapping>);
static_assert(!std::is_copy_constructible_v<FileMapping>);
static_assert(!std::is_copy_assignable_v<FileMapping>);

TEST_CASE("an empty FileMapping holds nothing", "[file_mapping]")
{
    FileMapping empty;
    CHECK_FALSE(empty.is_open());
    CHECK_FALSE(empty);
    CHECK(empty.size() == 0);
    CHECK(empty.name().empty());
    CHECK(empty.bytes().empty());
    CHECK_FALSE(empty.created());
    empty.close();
    CHECK_FALSE(empty.is_open());
}

TEST_CASE("create gives zeroed memory of exactly the asked size", "[file_mapping]")
{
    const std::string name = test::unique_name("create");
    FileMapping mapping = FileMapping::create(name, 10000);
    CHECK(mapping.is_open());
    CHECK(mapping.size() == 10000);
    CHECK(mapping.name() == name);
    CHECK(mapping.created());
    CHECK(mapping.access() == Access::read_write);
    const auto bytes = mapping.bytes();
    CHECK(std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST_CASE("open sees the creator's bytes and size, and never creates", "[file_mapping]")
{
    const std::string name = test::unique_name("open");
    CHECK(test::thrown_code([&] { FileMapping::open(name); }) ==
          std::errc::no_such_file_or_directory);
    CHECK_FALSE(test::exists(name)); // the failed open created nothing

    FileMapping creator = FileMapping::create(name, 4097);
    creator.write("shared");
    FileMapping opener = FileMapping::open(name);
    CHECK(opener.size() == test::opened_size(4097));
    CHECK_FALSE(opener.created());
    CHECK(opener.read_string() == "shared");
    opener.write("back", 100);
    CHECK(creator.read_string(100) == "back");
}

TEST_CASE("create refuses a live name", "[file_mapping]")
{
    const std::string name = test::unique_name("twice");
    FileMapping first = FileMapping::create(name, 64);
    first.write("first");
    std::error_code ec;
    CHECK_FALSE(FileMapping::create(name, 64, ec).is_open());
    CHECK(ec == std::errc::file_exists);
    CHECK(first.read_string() == "first");
}

TEST_CASE("open_or_create creates once, then opens", "[file_mapping]")
{
    const std::string name = test::unique_name("ooc");
    FileMapping first = FileMapping::open_or_create(name, 8192);
    CHECK(first.created());
    first.write("kept");
    FileMapping second = FileMapping::open_or_create(name, 8192);
    CHECK_FALSE(second.created());
    CHECK(second.read_string() == "kept");

    SECTION("a larger existing object opens at its own size")
    {
        CHECK(FileMapping::open_or_create(name, 100).size() == 8192);
    }
    SECTION("a smaller existing object is result_out_of_range, giving both sizes")
    {
        std::error_code ec;
        CHECK_FALSE(FileMapping::open_or_create(name, 8193, ec).is_open());
        CHECK(ec == std::errc::result_out_of_range);
        const auto what = test::thrown_what([&] { FileMapping::open_or_create(name, 8193); });
        CHECK(what.find("8192") != std::string::npos);
        CHECK(what.find("8193") != std::string::npos);
    }
}

TEST_CASE("moves leave the source empty and move-assignment closes the target first",
          "[file_mapping]")
{
    const std::string a = test::unique_name("move-a");
    const std::string b = test::unique_name("move-b");
    FileMapping first = FileMapping::create(a, 64);
    FileMapping moved(std::move(first));
    CHECK_FALSE(first.is_open()); // NOLINT(bugprone-use-after-move): the contract under test
    CHECK(first.name().empty());
    CHECK(moved.name() == a);

    moved = FileMapping::create(b, 128);
    CHECK(moved.name() == b);
    CHECK(moved.size() == 128);
    CHECK_FALSE(test::exists(a)); // scoped: its only handle was closed by the assignment
}

TEST_CASE("close is idempotent and releases the name", "[file_mapping]")
{
    const std::string name = test::unique_name("close");
    FileMapping mapping = FileMapping::create(name, 64);
    mapping.close();
    mapping.close();
    CHECK_FALSE(mapping.is_open());
    CHECK(mapping.size() == 0);
    CHECK_FALSE(test::exists(name));
    CHECK(FileMapping::create(name, 64).created());
}

TEST_CASE("access modes: read_only refuses writes, copy_on_write keeps them private",
          "[file_mapping]")
{
    const std::string name = test::unique_name("access");
    FileMapping owner = FileMapping::create(name, 64);
    owner.write("original");

    FileMapping reader = FileMapping::open(name, Access::read_only);
    CHECK(reader.access() == Access::read_only);
    CHECK(test::thrown_code([&] { reader.write("changed"); }) == std::errc::permission_denied);
    CHECK(reader.read_string() == "original");

    FileMapping private_copy = FileMapping::open(name, Access::copy_on_write);
    private_copy.write("private");
    CHECK(private_copy.read_string() == "private");
    CHECK(owner.read_string() == "original");
    CHECK(reader.read_string() == "original");
}

TEST_CASE("flush succeeds on shared memory and is a no-op when read-only", "[file_mapping]")
{
    const std::string name = test::unique_name("flush");
    FileMapping mapping = FileMapping::create(name, 64);
    mapping.write("x");
    std::error_code ec = std::make_error_code(std::errc::io_error);
    mapping.flush(ec);
    CHECK_FALSE(ec);
    FileMapping::open(name, Access::read_only).flush();
}

TEST_CASE("prefault and sparse options give the same memory", "[file_mapping]")
{
    Options options;
    options.prefault = true;
    options.reserve = false;
    FileMapping mapping = FileMapping::create(test::unique_name("prefault"), 1 << 20, options);
    mapping.write_value(42, (1 << 20) - sizeof(int));
    CHECK(mapping.read_value<int>((1 << 20) - sizeof(int)) == 42);
}
