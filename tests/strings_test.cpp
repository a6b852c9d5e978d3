// tests/strings_test.cpp - the three string forms (narrow, wide, UTF-16) in a
// mapping and over a Channel: stored with one zero code unit, at any offset
// (aligned or not), up to the last byte, read each code unit once, never
// past the end, never a partial write.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using filemap::Channel;
using filemap::FileMapping;

namespace {

// NAME UNIT: until told to stop, keeps the object filled with 'x' bytes
// but for one zero code unit of UNIT bytes that moves around, so that the
// texts a reader finds keep changing length.
const test::Role move_the_zero("move-the-zero", [](const test::Args& args) {
    FileMapping mapping = FileMapping::open(args.at(0));
    const std::size_t unit = std::stoul(args.at(1));
    std::minstd_rand random(5);
    const std::vector<std::byte> zero(unit, std::byte{0});
    const std::vector<std::byte> filler(unit, std::byte{'x'});
    test::tell("started");
    std::size_t at = 0;
    test::repeat_until_told([&] {
        const std::size_t next = random() % (mapping.size() - unit + 1);
        mapping.write(std::span<const std::byte>(filler), at);
        mapping.write(std::span<const std::byte>(zero), next);
        at = next;
    });
    return 0;
});

/// The bytes of `units` followed by one zero unit: what a C program's
/// memcpy of the string and its terminator stores.
template <class Char>
std::vector<std::byte> stored(std::basic_string_view<Char> units)
{
    std::vector<std::byte> bytes((units.size() + 1) * sizeof(Char), std::byte{0});
    std::memcpy(bytes.data(), units.data(), units.size() * sizeof(Char));
    return bytes;
}

/// Writes `text` at `offset` and checks the bytes and the read-back.
template <class Char, class Read>
void round_trip(FileMapping& mapping, std::basic_string_view<Char> text, std::size_t offset,
                Read read)
{
    INFO("offset " << offset << ", " << text.size() << " units of " << sizeof(Char) << " bytes");
    mapping.write(text, offset);
    const auto expected = stored(text);
    std::vector<std::byte> found(expected.size());
    mapping.read(std::span<std::byte>(found), offset);
    CHECK(found == expected);
    CHECK(read(offset) == text);
}

} // namespace

TEST_CASE("each string form round-trips at aligned and odd offsets, up to the last byte",
          "[strings]")
{
    FileMapping mapping = FileMapping::create(test::unique_name("forms"), 256);
    const std::size_t size = mapping.size();
    const std::string narrow = "Message from first process.";
    const std::wstring wide = L"Message from first process. \u00e9\u4e16";
    const std::u16string utf16 = u"Message from first process. \u00e9\u4e16\U0001F4E6";
    for (const std::size_t offset : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
        round_trip<char>(mapping, narrow, offset,
                         [&](std::size_t at) { return mapping.read_string(at); });
        round_trip<wchar_t>(mapping, wide, offset,
                            [&](std::size_t at) { return mapping.read_wstring(at); });
        round_trip<char16_t>(mapping, utf16, offset,
                             [&](std::size_t at) { return mapping.read_u16string(at); });
    }
    // Exactly at the end: the terminator takes the last code unit.
    round_trip<char16_t>(mapping, u"end", size - 8,
                         [&](std::size_t at) { return mapping.read_u16string(at); });
    round_trip<wchar_t>(mapping, L"e", size - 2 * sizeof(wchar_t),
                        [&](std::size_t at) { return mapping.read_wstring(at); });
}

TEST_CASE("a string that does not fit, terminator included, is out_of_range and writes nothing",
          "[strings]")
{
    FileMapping mapping = FileMapping::create(test::unique_name("no-fit"), 64);
    const std::size_t size = mapping.size();
    std::vector<std::byte> before(size, std::byte{'k'});
    mapping.write(std::span<const std::byte>(before));
    const std::u16string text(10, u'a');
    CHECK_THROWS_AS(mapping.write(std::u16string_view(text), size - 21), std::out_of_range);
    CHECK_THROWS_AS(mapping.write(std::wstring_view(L"ab"), size - 2 * sizeof(wchar_t) - 1),
                    std::out_of_range);
    CHECK_THROWS_AS(mapping.write(std::u16string_view(u""), size - 1), std::out_of_range);
    std::vector<std::byte> after(size);
    mapping.read(std::span<std::byte>(after));
    CHECK(after == before);
    mapping.write(std::u16string_view(text), size - 22); // exactly fits
    CHECK(mapping.read_u16string(size - 22) == text);
}

TEST_CASE("a text without a terminator ends at the last whole code unit", "[strings]")
{
    FileMapping mapping = FileMapping::create(test::unique_name("unterminated"), 64);
    const std::size_t size = mapping.size();
    std::vector<std::byte> filler(size, std::byte{'x'});
    mapping.write(std::span<const std::byte>(filler));
    CHECK(mapping.read_string(size - 3) == "xxx");
    // Three bytes hold one UTF-16 unit and a partial one, which is not read.
    CHECK(mapping.read_u16string(size - 3).size() == 1);
    CHECK(mapping.read_wstring(size - sizeof(wchar_t) - 1).size() == 1);
    CHECK(mapping.read_wstring(size - 1).empty());
    CHECK(mapping.read_u16string(size).empty());
    CHECK_THROWS_AS(mapping.read_u16string(size + 1), std::out_of_range);
}

TEST_CASE("wide reads take each code unit once, however fast a peer rewrites them", "[strings]")
{
    for (const std::size_t unit : {sizeof(char16_t), sizeof(wchar_t)}) {
        const std::string name = test::unique_name("zero-unit");
        FileMapping mapping = FileMapping::create(name, 4096);
        test::Child peer = test::Child::role("move-the-zero", {name, std::to_string(unit)});
        REQUIRE(peer.read_line() == "started");
        std::minstd_rand random(13);
        int reads = 0;
        int outside = 0;
        int holding_a_zero = 0;
        // At least 250 ms and 1000 reads, however slowly this process runs.
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
        while (reads < 1000 || std::chrono::steady_clock::now() < until) {
            const std::size_t offset = random() % mapping.size();
            std::size_t units = 0;
            bool zero_inside = false;
            if (unit == sizeof(char16_t)) {
                const std::u16string text = mapping.read_u16string(offset);
                units = text.size();
                zero_inside = text.find(u'\0') != std::u16string::npos;
            } else {
                const std::wstring text = mapping.read_wstring(offset);
                units = text.size();
                zero_inside = text.find(L'\0') != std::wstring::npos;
            }
            outside += units * unit > mapping.size() - offset ? 1 : 0;
            holding_a_zero += zero_inside ? 1 : 0;
            ++reads;
        }
        peer.say("stop");
        CHECK(peer.wait() == 0);
        INFO(reads << " reads of " << unit << "-byte units");
        CHECK(outside == 0);
        CHECK(holding_a_zero == 0);
    }
}

TEST_CASE("wide and UTF-16 messages cross a Channel; a torn code unit stays for the next call",
          "[strings]")
{
    Channel channel = Channel::create(test::unique_name("wide-channel"), 256);
    channel.send(std::wstring_view(L"wide \u00e9\u4e16"));
    channel.send(std::u16string_view(u"utf-16 \u00e9\U0001F4E6"));
    channel.send(std::string_view("odd")); // 3 bytes: not whole UTF-16 units
    CHECK(channel.receive_wstring() == L"wide \u00e9\u4e16");
    CHECK(channel.receive_u16string() == u"utf-16 \u00e9\U0001F4E6");
    const std::string what = test::thrown_what([&] { channel.receive_u16string(); });
    CHECK(what.find("not a whole number of 2-byte code units") != std::string::npos);
    CHECK(channel.receive_string() == "odd"); // still there
    channel.send(std::u16string_view(u""));
    CHECK(channel.receive_u16string().empty());
}
