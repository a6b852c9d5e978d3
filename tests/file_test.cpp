// tests/file_test.cpp - files on disk: map, grow, flush, read back, and the
// refusals (missing, empty, too short to map read-only).
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

using filemap::Access;
using filemap::FileMapping;
namespace fs = std::filesystem;

namespace {

std::string utf8(const fs::path& path)
{
    const auto text = path.u8string();
    return {text.begin(), text.end()};
}

fs::path from_utf8(const std::string& text)
{
    return fs::path(std::u8string(text.begin(), text.end()));
}

/// A fresh directory for one test, removed afterwards.
struct TempDir {
    fs::path path = fs::temp_directory_path() / test::unique_name("files");
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
    fs::path operator/(const std::string& leaf) const { return path / from_utf8(leaf); }
};

void put(const fs::path& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary) << text;
}

std::string get(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Maps the file and reports its text.
const test::Role read_file("read-file", [](const test::Args& args) {
    test::tell(FileMapping::map_file(from_utf8(args.at(0))).read_string());
    return 0;
});

} // namespace

TEST_CASE("a file is mapped whole, read-only by default", "[file]")
{
    TempDir dir;
    put(dir / "data.bin", "Hello, Memory-Mapped File!");
    FileMapping file = FileMapping::map_file(dir / "data.bin");
    CHECK(file.size() == 26);
    CHECK(file.access() == Access::read_only);
    CHECK(file.read_string() == "Hello, Memory-Mapped File!");
    CHECK(test::thrown_code([&] { file.write("x"); }) == std::errc::permission_denied);
    CHECK(file.name() == utf8(dir / "data.bin"));
}

TEST_CASE("read_write with a larger size grows the file, and flush reaches it", "[file]")
{
    TempDir dir;
    const auto path = dir / "grow.bin";
    put(path, "abc");
    {
        FileMapping file = FileMapping::map_file(path, Access::read_write, 1024);
        CHECK(file.size() == 1024);
        CHECK(fs::file_size(path) == 1024);
        CHECK(file.read_string() == "abc");
        file.write("written through the mapping", 500);
        file.flush();
        CHECK(get(path).substr(500, 27) == "written through the mapping");
    }
    CHECK(test::Child::role("read-file", {utf8(path)}).read_line() == "abc");
}

TEST_CASE("copy_on_write changes never reach the file", "[file]")
{
    TempDir dir;
    const auto path = dir / "cow.bin";
    put(path, "on disk");
    FileMapping file = FileMapping::map_file(path, Access::copy_on_write);
    file.write("mine");
    file.flush();
    CHECK(file.read_string() == "mine");
    CHECK(get(path) == "on disk");
}

TEST_CASE("file mappings refuse what they cannot honour", "[file]")
{
    TempDir dir;
    std::error_code ec;
    CHECK_FALSE(FileMapping::map_file(dir / "missing.bin", ec).is_open());
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK_FALSE(fs::exists(dir / "missing.bin")); // never created

    put(dir / "empty.bin", "");
    FileMapping::map_file(dir / "empty.bin", Access::read_write, ec);
    CHECK(ec == std::errc::invalid_argument);

    put(dir / "short.bin", "short");
    FileMapping::map_file(dir / "short.bin", Access::read_only, 100, ec);
    CHECK(ec == std::errc::result_out_of_range);
    FileMapping::map_file(dir / "short.bin", Access::copy_on_write, 100, ec);
    CHECK(ec == std::errc::result_out_of_range);
    CHECK(fs::file_size(dir / "short.bin") == 5);

    FileMapping::map_file(dir.path, ec);
    CHECK(ec == std::errc::invalid_argument);

    const auto what = test::thrown_what([&] { FileMapping::map_file(dir / "missing.bin"); });
    CHECK(what.find("map_file") != std::string::npos);
    CHECK(what.find("missing.bin") != std::string::npos);
}

TEST_CASE("a smaller size maps the start of the file", "[file]")
{
    TempDir dir;
    put(dir / "part.bin", "0123456789");
    FileMapping file = FileMapping::map_file(dir / "part.bin", Access::read_only, 4);
    CHECK(file.size() == 4);
    CHECK(file.read_string() == "0123");
}

TEST_CASE("paths with non-ASCII characters work", "[file]")
{
    TempDir dir;
    const auto path = dir / "donn\xc3\xa9"
                            "es-\xe6\x97\xa5\xe6\x9c\xac.bin";
    put(path, "unicode");
    CHECK(FileMapping::map_file(path).read_string() == "unicode");
}
