// tests/growth_test.cpp - growable mappings: grow() in one process, refresh()
// in another, addresses that never move, and the limits around them.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

using filemap::Access;
using filemap::FileMapping;
using filemap::Options;

namespace {

constexpr std::size_t page = 4096;

Options growable(std::size_t max_size)
{
    Options options;
    options.max_size = max_size;
    return options;
}

bool all_zero(std::span<const std::byte> bytes)
{
    return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

std::vector<std::string> words(const std::string& line)
{
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string word; in >> word;) {
        out.push_back(word);
    }
    return out;
}

// NAME ACCESS: opens NAME and answers its parent's commands, one line each:
//   refresh          -> "<size> same|moved" (whether the address moved)
//   grow N           -> "grown <size>" or the error's code_line
//   read OFFSET      -> the string stored there
//   write OFFSET TXT -> "written"
//   view OFFSET LEN  -> "view <first string>" or the error's code_line
// It first says "opened <size>".
const test::Role growth_peer("growth-peer", [](const test::Args& args) {
    FileMapping mapping =
        FileMapping::open(args.at(0), args.at(1) == "ro" ? Access::read_only : Access::read_write);
    const std::byte* const first = mapping.bytes().data();
    const std::string opened_with = mapping.read_string(0);
    test::tell("opened " + std::to_string(mapping.size()));
    for (std::string line = test::hear(); !line.empty(); line = test::hear()) {
        const auto command = words(line);
        std::error_code ec;
        if (command[0] == "refresh") {
            const std::size_t size = mapping.refresh();
            // What was read through the old address is still there.
            const bool same =
                mapping.bytes().data() == first && mapping.read_string(0) == opened_with;
            test::tell(std::to_string(size) + (same ? " same" : " moved"));
        } else if (command[0] == "grow") {
            mapping.grow(std::stoul(command[1]), ec);
            test::tell(ec ? test::code_line(ec) : "grown " + std::to_string(mapping.size()));
        } else if (command[0] == "read") {
            test::tell(mapping.read_string(std::stoul(command[1])));
        } else if (command[0] == "write") {
            mapping.write(command[2], std::stoul(command[1]));
            test::tell("written");
        } else if (command[0] == "view") {
            const filemap::View view =
                mapping.view(std::stoul(command[1]), std::stoul(command[2]), Access::read_only, ec);
            test::tell(ec ? test::code_line(ec) : "view " + view.read_string(0));
        }
    }
    return 0;
});

// NAME MAX SEED ROUNDS: grows NAME to random sizes up to MAX, checking after
// each grow that refresh() is never below what it grew to, nor below any
// size it saw before. Says "<largest grow> <violations>".
const test::Role racing_grower("racing-grower", [](const test::Args& args) {
    FileMapping mapping = FileMapping::open(args.at(0));
    const std::size_t max = std::stoul(args.at(1));
    std::minstd_rand random(static_cast<unsigned>(std::stoul(args.at(2))));
    std::size_t largest = 0;
    std::size_t seen = mapping.size();
    int violations = 0;
    for (int round = 0; round < std::stoi(args.at(3)); ++round) {
        const std::size_t target = page * (1 + random() % (max / page));
        mapping.grow(target);
        largest = std::max(largest, target);
        const std::size_t now = mapping.refresh();
        if (now < target || now < seen || mapping.size() != now) {
            ++violations;
        }
        seen = now;
        mapping.write_value(std::uint8_t{1}, target - 1); // the grown bytes are usable
    }
    test::tell(std::to_string(largest) + " " + std::to_string(violations));
    return 0;
});

} // namespace

TEST_CASE("a growable mapping grows in place: the same address, old bytes kept, new ones zero",
          "[growth]")
{
    FileMapping mapping =
        FileMapping::create(test::unique_name("grow"), 10000, growable(std::size_t{4} << 20));
    CHECK(mapping.size() == 10000);
    CHECK(mapping.max_size() == std::size_t{4} << 20);
    mapping.write("kept", 9980);
    std::byte* const base = mapping.bytes().data();
    const std::span<std::uint32_t> early = mapping.as_span<std::uint32_t>(0, 16);
    early[3] = 0xC0FFEE;

    for (const std::size_t size :
         {std::size_t{10001}, std::size_t{1} << 20, std::size_t{4} << 20}) {
        const std::size_t before = mapping.size();
        mapping.grow(size);
        CHECK(mapping.size() == size);
        CHECK(mapping.bytes().data() == base);
        CHECK(all_zero(mapping.bytes().subspan(before)));
        mapping.write_value(std::uint64_t{size}, size - 8); // the last bytes are usable
    }
    CHECK(mapping.read_string(9980) == "kept");
    CHECK(early[3] == 0xC0FFEE); // a span taken before every grow
    CHECK(mapping.read_value<std::uint64_t>((std::size_t{4} << 20) - 8) == std::size_t{4} << 20);

    mapping.grow(100); // never shrinks: nothing to do
    CHECK(mapping.size() == std::size_t{4} << 20);
    CHECK(mapping.refresh() == std::size_t{4} << 20);
}

TEST_CASE("grow fails clearly beyond max_size, on fixed and read-only mappings, and when closed",
          "[growth]")
{
    const std::string name = test::unique_name("limits");
    FileMapping mapping = FileMapping::create(name, page, growable(16 * page));
    std::error_code ec;
    mapping.grow(16 * page + 1, ec);
    CHECK(ec == std::errc::result_out_of_range);
    CHECK(mapping.size() == page); // unchanged
    CHECK(test::thrown_what([&] { mapping.grow(17 * page); }).find("beyond max_size") !=
          std::string::npos);

    FileMapping reader = FileMapping::open(name, Access::read_only);
    CHECK(reader.max_size() == 16 * page);
    reader.grow(2 * page, ec);
    CHECK(ec == std::errc::permission_denied);
    CHECK(reader.size() == page);

    FileMapping fixed = FileMapping::create(test::unique_name("fixed"), page);
    CHECK(fixed.max_size() == 0);
    fixed.grow(2 * page, ec);
    CHECK(ec == std::errc::result_out_of_range);
    CHECK(test::thrown_what([&] { fixed.grow(2 * page); }).find("fixed size") != std::string::npos);
    CHECK(fixed.refresh() == page);
    fixed.grow(page); // not above its size: nothing to do, no error
    CHECK(fixed.size() == page);

    mapping.close();
    mapping.grow(2 * page, ec);
    CHECK(ec == std::errc::bad_file_descriptor);
    CHECK(mapping.refresh(ec) == 0);
    CHECK(ec == std::errc::bad_file_descriptor);
}

TEST_CASE("max_size is checked before anything is made", "[growth]")
{
    const std::string name = test::unique_name("bad-max");
    std::error_code ec;
    CHECK_FALSE(FileMapping::create(name, 2 * page, growable(page), ec).is_open());
    CHECK(ec == std::errc::invalid_argument);
    CHECK(test::thrown_what([&] {
              FileMapping::create(name, 2 * page, growable(page));
          }).find("max_size 4096 is less than size 8192") != std::string::npos);

    Options huge = growable(1 << 22);
    huge.huge_pages = true;
    CHECK_FALSE(FileMapping::create(name, 1 << 21, huge, ec).is_open());
    CHECK(ec == std::errc::invalid_argument);

    CHECK_FALSE(filemap::NamedMutex::create(name, growable(1 << 20), ec).is_open());
    CHECK(ec == std::errc::invalid_argument);
    CHECK_FALSE(filemap::Channel::create(name, 64, growable(1 << 20), ec).is_open());
    CHECK(ec == std::errc::invalid_argument);
    CHECK_FALSE(test::exists(name));
}

TEST_CASE("another process grows the object; refresh() maps it at the same address", "[growth]")
{
    const std::string name = test::unique_name("follow");
    FileMapping mapping = FileMapping::create(name, 16 * page, growable(1024 * page));
    mapping.write("first", 0);
    std::byte* const base = mapping.bytes().data();

    test::Child reader = test::Child::role("growth-peer", {name, "ro"});
    CHECK(reader.read_line() == "opened " + std::to_string(16 * page));
    mapping.grow(512 * page);
    mapping.write("far", 500 * page);
    reader.say("view " + std::to_string(500 * page) + " 16");
    CHECK(test::code_from_line(reader.read_line()) == std::errc::result_out_of_range);
    reader.say("refresh");
    CHECK(reader.read_line() == std::to_string(512 * page) + " same");
    reader.say("read " + std::to_string(500 * page));
    CHECK(reader.read_line() == "far");
    reader.say("view " + std::to_string(500 * page) + " 16");
    CHECK(reader.read_line() == "view far");
    reader.say("grow " + std::to_string(600 * page));
    CHECK(test::code_from_line(reader.read_line()) == std::errc::permission_denied);

    // The other way round: a read-write opener grows, the creator follows.
    test::Child writer = test::Child::role("growth-peer", {name, "rw"});
    CHECK(writer.read_line() == "opened " + std::to_string(512 * page));
    writer.say("grow " + std::to_string(1000 * page));
    CHECK(writer.read_line() == "grown " + std::to_string(1000 * page));
    writer.say("write " + std::to_string(999 * page) + " near-the-end");
    CHECK(writer.read_line() == "written");
    writer.say("grow " + std::to_string(1024 * page + 1));
    CHECK(test::code_from_line(writer.read_line()) == std::errc::result_out_of_range);

    CHECK(mapping.size() == 512 * page); // until it looks
    CHECK(mapping.refresh() == 1000 * page);
    CHECK(mapping.bytes().data() == base);
    CHECK(mapping.read_string(999 * page) == "near-the-end");
    CHECK(mapping.read_string(0) == "first");
    reader.say("refresh");
    CHECK(reader.read_line() == std::to_string(1000 * page) + " same");
    reader.say("");
    writer.say("");
    CHECK(reader.wait() == 0);
    CHECK(writer.wait() == 0);
}

TEST_CASE("an opener learns the size others grew to, rounded up to a page only on Windows",
          "[growth]")
{
    const std::string name = test::unique_name("odd");
    FileMapping mapping = FileMapping::create(name, 1000, growable(100000));
    mapping.grow(50001);
    test::Child peer = test::Child::role("growth-peer", {name, "ro"});
    CHECK(peer.read_line() == "opened " + std::to_string(test::opened_size(50001)));
    peer.say("");
    CHECK(peer.wait() == 0);
    FileMapping opened = FileMapping::open(name, Access::read_only);
    CHECK(opened.max_size() == test::opened_size(100000));
}

TEST_CASE("processes growing at once: the size only increases and every grown byte is usable",
          "[growth]")
{
    const std::string name = test::unique_name("race");
    constexpr std::size_t max = 256 * page;
    FileMapping mapping = FileMapping::create(name, page, growable(max));
    std::vector<test::Child> growers;
    for (int i = 0; i < 3; ++i) {
        growers.push_back(test::Child::role(
            "racing-grower", {name, std::to_string(max), std::to_string(1234 + i), "300"}));
    }
    std::size_t largest = 0;
    for (auto& grower : growers) {
        const auto said = words(grower.read_line());
        REQUIRE(said.size() == 2);
        largest = std::max<std::size_t>(largest, std::stoul(said[0]));
        CHECK(said[1] == "0"); // no size went down or stopped short of a grow
        CHECK(grower.wait() == 0);
    }
    CHECK(mapping.refresh() == largest);
    CHECK(mapping.read_value<std::uint8_t>(largest - 1) == 1);
}

TEST_CASE("open_or_create of a growable object learns its max_size, not the caller's", "[growth]")
{
    const std::string name = test::unique_name("ooc");
    FileMapping made = FileMapping::open_or_create(name, 2 * page, growable(64 * page));
    CHECK(made.created());
    made.grow(8 * page);
    FileMapping again = FileMapping::open_or_create(name, 4 * page, growable(1024 * page));
    CHECK_FALSE(again.created());
    CHECK(again.size() == 8 * page);
    CHECK(again.max_size() == 64 * page);
    std::error_code ec;
    CHECK_FALSE(FileMapping::open_or_create(name, 9 * page, growable(64 * page), ec).is_open());
    CHECK(ec == std::errc::result_out_of_range); // smaller than asked, even if it could grow
}

TEST_CASE("a growable file mapping grows the file, and another mapping of it follows", "[growth]")
{
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / (test::unique_name("log") + ".bin");
    std::ofstream(path, std::ios::binary) << "header";
    std::error_code ec;
    FileMapping writer =
        FileMapping::map_file(path, Access::read_write, 4096, growable(1 << 20), ec);
#if defined(_WIN32)
    CHECK(ec == std::errc::not_supported); // a file's section cannot grow in place
    CHECK_FALSE(writer.is_open());
#else
    REQUIRE_FALSE(ec);
    CHECK(std::filesystem::file_size(path) == 4096);
    CHECK(writer.max_size() == 1 << 20);
    writer.grow(300000);
    writer.write("tail", 299990);
    CHECK(std::filesystem::file_size(path) == 300000);

    FileMapping reader = FileMapping::map_file(path, Access::read_only, 0, growable(1 << 20));
    CHECK(reader.size() == 300000);
    writer.grow(1 << 20);
    writer.write("end", (1 << 20) - 10);
    CHECK(reader.refresh() == 1 << 20);
    CHECK(reader.read_string((1 << 20) - 10) == "end");
    CHECK(reader.read_string(0) == "header");

    CHECK_FALSE(FileMapping::map_file(path, Access::read_only, 0, growable(1000), ec).is_open());
    CHECK(ec == std::errc::invalid_argument); // the file is already larger
#endif
    writer.close();
    std::filesystem::remove(path);
}
