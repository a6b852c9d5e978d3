// tests/view_test.cpp - views of part of a mapping: exact windows at any
// offset, their own bounds and access, and lifetimes of their own.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

using filemap::Access;
using filemap::FileMapping;
using filemap::View;

TEST_CASE("a view is exactly the window asked for, at any offset", "[view]")
{
    FileMapping mapping = FileMapping::create(test::unique_name("window"), 300000);
    View view = mapping.view(70001, 1000); // past the 64 KiB granularity, not aligned
    CHECK(view.offset() == 70001);
    CHECK(view.size() == 1000);
    CHECK(view.name() == mapping.name());
    view.write("through the view", 10);
    CHECK(mapping.read_string(70011) == "through the view");
    mapping.write("through the mapping", 70001 + 500);
    CHECK(view.read_string(500) == "through the mapping");
    CHECK(static_cast<void*>(view.bytes().data()) != static_cast<void*>(mapping.bytes().data()));
}

TEST_CASE("a view checks its own bounds and access", "[view]")
{
    const std::string name = test::unique_name("view-checks");
    FileMapping mapping = FileMapping::create(name, 8192);
    View view = mapping.view(4000, 100);
    CHECK_THROWS_AS(view.write(std::string(100, 'x')), std::out_of_range); // 100 + NUL
    CHECK_NOTHROW(view.write(std::string(99, 'x')));

    std::error_code ec;
    mapping.view(8000, 193, Access::read_write, ec);
    CHECK(ec == std::errc::result_out_of_range);
    mapping.view(0, 0, Access::read_write, ec);
    CHECK(ec == std::errc::invalid_argument);

    View reader = mapping.view(0, 64, Access::read_only);
    CHECK(test::thrown_code([&] { reader.write("no"); }) == std::errc::permission_denied);

    FileMapping read_only = FileMapping::open(name, Access::read_only);
    read_only.view(0, 64, Access::read_write, ec);
    CHECK(ec == std::errc::permission_denied);
    CHECK(read_only.view(0, 64).access() == Access::read_only);
}

TEST_CASE("a view outlives its FileMapping and keeps a scoped name alive", "[view]")
{
    const std::string name = test::unique_name("view-life");
    FileMapping mapping = FileMapping::create(name, 4096);
    View view = mapping.view(100, 200);
    mapping.close();
    view.write("still mapped");
    CHECK(view.read_string() == "still mapped");
    CHECK(test::exists(name));
    CHECK(FileMapping::open(name).read_string(100) == "still mapped");
    view.close();
    CHECK_FALSE(test::exists(name));
}

TEST_CASE("a view of a file writes where it says, and flushes", "[view]")
{
    const auto path = std::filesystem::temp_directory_path() / (test::unique_name("view") + ".bin");
    std::ofstream(path, std::ios::binary) << "header";
    {
        FileMapping file = FileMapping::map_file(path, Access::read_write, 1 << 20);
        View view = file.view(700001, 64);
        view.write("deep inside");
        view.flush();
    }
    std::ifstream in(path, std::ios::binary);
    const std::string contents{std::istreambuf_iterator<char>(in), {}};
    in.close();
    CHECK(contents.size() == (1u << 20));
    CHECK(contents.substr(700001, 11) == "deep inside");
    std::filesystem::remove(path);
}

TEST_CASE("advice is accepted on mappings and views", "[view]")
{
    FileMapping mapping = FileMapping::create(test::unique_name("advice"), 1 << 20);
    View view = mapping.view(12345, 100000);
    for (const auto advice : {filemap::Advice::normal, filemap::Advice::sequential,
                              filemap::Advice::random, filemap::Advice::willneed}) {
        CHECK_NOTHROW(mapping.advise(advice));
        CHECK_NOTHROW(view.advise(advice));
    }
}
