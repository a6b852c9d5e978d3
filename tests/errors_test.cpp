// tests/errors_test.cpp - the error model: std::errc codes in both forms,
// messages that name the operation and the object, ec cleared on success.
#include "support.hpp"

#include <filemap/filemap.hpp>

using filemap::FileMapping;

TEST_CASE("what() names the operation and the object", "[errors]")
{
    const std::string name = test::unique_name("missing");
    CHECK(test::thrown_what([&] { FileMapping::open(name); }) ==
          "filemap: open \"" + name + "\": No such file or directory");

    FileMapping held = FileMapping::create(name, 4096);
    CHECK(test::thrown_what([&] { FileMapping::create(name, 4096); }) ==
          "filemap: create \"" + name + "\": File exists");
    CHECK(test::thrown_what([&] { FileMapping::open_or_create(name, 4097); }) ==
          "filemap: open_or_create \"" + name +
              "\": Result out of range: the object is 4096 bytes, asked for 4097");
}

TEST_CASE("thrown errors are std::system_error comparing equal to std::errc", "[errors]")
{
    const std::string name = test::unique_name("codes");
    CHECK(test::thrown_code([&] { FileMapping::open(name); }) ==
          std::errc::no_such_file_or_directory);
    CHECK(test::thrown_code([&] { FileMapping::create(name, 0); }) == std::errc::invalid_argument);
    CHECK(test::thrown_code([&] { FileMapping::anonymous(0); }) == std::errc::invalid_argument);
    CHECK(test::thrown_code([&] { FileMapping::open_or_create(name, 0); }) ==
          std::errc::invalid_argument);
    CHECK_FALSE(test::exists(name));
}

TEST_CASE("the error_code forms set ec on failure and clear it on success", "[errors]")
{
    const std::string name = test::unique_name("ec");
    std::error_code ec = std::make_error_code(std::errc::io_error);
    FileMapping created = FileMapping::create(name, 128, ec);
    CHECK_FALSE(ec);
    CHECK(created.size() == 128);

    FileMapping again = FileMapping::create(name, 128, ec);
    CHECK(ec == std::errc::file_exists);
    CHECK_FALSE(again.is_open());
    CHECK(again.size() == 0);

    FileMapping opened = FileMapping::open(name, ec);
    CHECK_FALSE(ec);
    CHECK(opened.size() == test::opened_size(128));

    CHECK_FALSE(FileMapping::open(test::unique_name("absent"), ec).is_open());
    CHECK(ec == std::errc::no_such_file_or_directory);
}

TEST_CASE("permissions beyond read, write and execute bits are refused", "[errors]")
{
    filemap::Options options;
    options.permissions = std::filesystem::perms::owner_all | std::filesystem::perms::set_uid;
    std::error_code ec;
    CHECK_FALSE(FileMapping::create(test::unique_name("suid"), 64, options, ec).is_open());
    CHECK(ec == std::errc::invalid_argument);
}

TEST_CASE("a size the platform cannot map fails cleanly", "[errors]")
{
    filemap::Options sparse;
    sparse.reserve = false;
    const std::string name = test::unique_name("huge");
    std::error_code ec;
    FileMapping::create(name, static_cast<std::size_t>(-1), sparse, ec);
    CHECK(ec);
    CHECK_FALSE(test::exists(name));
}
