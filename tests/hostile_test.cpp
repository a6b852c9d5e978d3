// tests/hostile_test.cpp - peers that do not play fair with a mapping:
// contents rewritten while we read them, a file shrunk under our mapping.
// (hostile_blocks_test.cpp: the same for NamedMutex and Channel.)
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

using filemap::Access;
using filemap::FileMapping;

namespace {

constexpr std::size_t size = 4096;

// NAME: until told to stop, moves a single NUL around a mapping that is
// otherwise all 'x', so a reader's strings keep changing length.
const test::Role move_the_nul("move-the-nul", [](const test::Args& args) {
    FileMapping mapping = FileMapping::open(args.at(0));
    std::minstd_rand random(7);
    test::tell("started");
    std::size_t nul = 0;
    test::repeat_until_told([&] {
        const std::size_t next = random() % mapping.size();
        mapping.write_value('x', nul);
        mapping.write_value('\0', next);
        nul = next;
    });
    return 0;
});

// PATH: shrinks the file at PATH to 0 bytes; says what happened.
const test::Role shrink_file("shrink-file", [](const test::Args& args) {
    std::error_code ec;
    std::filesystem::resize_file(args.at(0), 0, ec);
    test::tell(test::code_line(ec));
    return 0;
});

// PATH: maps the file, shrinks it, then touches the lost page. The process
// is expected to die there (SIGBUS); "survived" would say otherwise.
const test::Role touch_after_shrink("touch-after-shrink", [](const test::Args& args) {
    FileMapping mapping = FileMapping::map_file(args.at(0), Access::read_write);
    std::filesystem::resize_file(args.at(0), 0);
    test::tell("touching " + std::to_string(mapping.read_value<int>(4096)));
    test::tell("survived");
    return 0;
});

std::filesystem::path temporary_file(const std::string& what, std::size_t bytes)
{
    const auto path = std::filesystem::temp_directory_path() / (test::unique_name(what) + ".bin");
    std::ofstream(path, std::ios::binary) << std::string(bytes, 'f');
    return path;
}

} // namespace

TEST_CASE("read_string reads each byte once, however fast a peer rewrites them", "[hostile]")
{
    const std::string name = test::unique_name("nul");
    FileMapping mapping = FileMapping::create(name, size);
    mapping.write(std::string(mapping.size() - 1, 'x'));
    test::Child peer = test::Child::role("move-the-nul", {name});
    REQUIRE(peer.read_line() == "started");
    std::minstd_rand random(11);
    int reads = 0;
    int outside = 0;
    int holding_a_nul = 0;
    // At least 300 ms and 2000 reads, however slowly this process runs.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (reads < 2000 || std::chrono::steady_clock::now() < until) {
        const std::size_t offset = random() % mapping.size();
        const std::string text = mapping.read_string(offset);
        outside += text.size() > mapping.size() - offset ? 1 : 0;
        holding_a_nul += text.find('\0') != std::string::npos ? 1 : 0;
        ++reads;
    }
    peer.say("stop");
    CHECK(peer.wait() == 0);
    INFO(reads << " reads");
    CHECK(outside == 0);
    CHECK(holding_a_nul == 0); // a NUL found, then copied again later, would show here
}

TEST_CASE("a file shrunk under a mapping: our calls report it, raw access is the OS's", "[hostile]")
{
    const auto path = temporary_file("shrunk", 3 * 65536);
    {
        FileMapping mapping = FileMapping::map_file(path, Access::read_write);
        mapping.write("before");
        test::Child other = test::Child::role("shrink-file", {path.string()});
        const std::error_code shrunk = test::code_from_line(other.read_line());
        CHECK(other.wait() == 0);
#if defined(_WIN32)
        // Windows refuses to shrink a file while a section maps it.
        CHECK(shrunk);
        CHECK(mapping.read_string() == "before");
        CHECK(mapping.view(65536, 65536).size() == 65536);
#else
        // POSIX lets it happen; pages past the new end are gone (SIGBUS on
        // touch). What filemap can check, it does: a new view past the end
        // is refused, and flush does not fault.
        CHECK_FALSE(shrunk);
        std::error_code ec;
        CHECK_FALSE(mapping.view(65536, 65536, Access::read_write, ec).is_open());
        CHECK(ec == std::errc::result_out_of_range);
        CHECK(test::thrown_what([&] { mapping.view(0, 16); }).find("the object is now 0 bytes") !=
              std::string::npos);
        mapping.flush(ec);
        CHECK_FALSE(ec);
#endif
    }
    std::filesystem::remove(path);
}

#if !defined(_WIN32)
TEST_CASE("touching a page that a shrink took away ends the process, as documented", "[hostile]")
{
    const auto path = temporary_file("touch", 65536);
    test::Child child = test::Child::role("touch-after-shrink", {path.string()});
    CHECK(child.read_line() == ""); // died before it could say anything
    CHECK(child.wait() != 0);
    std::filesystem::remove(path);
}
#endif
