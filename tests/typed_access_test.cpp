// tests/typed_access_test.cpp - the bounds-checked typed API: bytes, spans,
// strings, values and typed views; nothing outside the mapping, nothing partial.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using filemap::Access;
using filemap::FileMapping;

namespace {

struct Point {
    std::int32_t x;
    std::int32_t y;
    double weight;
};

constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

FileMapping make(std::size_t size)
{
    return FileMapping::create(test::unique_name("typed"), size);
}

std::vector<std::byte> snapshot(const FileMapping& mapping)
{
    return {mapping.bytes().begin(), mapping.bytes().end()};
}

} // namespace

// Misuse is a compile error: only trivially copyable types cross the mapping.
template <class T>
concept WritableValue = requires(FileMapping& m, const T& value)
{
    m.write_value(value);
};
template <class T>
concept ReadableValue = requires(const FileMapping& m)
{
    m.read_value<T>();
};
static_assert(WritableValue<Point> && ReadableValue<Point>);
static_assert(!WritableValue<std::string> && !ReadableValue<std::vector<int>>);
template <class T>
concept SpannableAs = requires(FileMapping& m)
{
    m.as_span<T>(0, 1);
};
template <class Span>
concept ReadableInto = requires(const FileMapping& m, Span out)
{
    m.read(out);
};
static_assert(SpannableAs<Point> && SpannableAs<const Point>);
static_assert(!SpannableAs<std::string>);
static_assert(ReadableInto<std::span<int>> && !ReadableInto<std::span<const int>>);

TEST_CASE("bytes written are the bytes read, at any offset", "[typed_access]")
{
    FileMapping mapping = make(100);
    std::array<std::byte, 10> in{};
    for (std::size_t i = 0; i < in.size(); ++i) {
        in[i] = static_cast<std::byte>(i + 1);
    }
    mapping.write(in, 90);
    std::array<std::byte, 10> out{};
    mapping.read(out, 90);
    CHECK(out == in);
    CHECK(mapping.bytes()[89] == std::byte{0});
}

TEST_CASE("typed spans and values round-trip", "[typed_access]")
{
    FileMapping mapping = make(4096);
    const std::vector<std::uint32_t> numbers{1, 2, 3, 0xdeadbeef};
    mapping.write(std::span(numbers), 8);
    std::vector<std::uint32_t> back(4);
    mapping.read(std::span(back), 8);
    CHECK(back == numbers);

    mapping.write_value(Point{3, -4, 0.5}, 512);
    const auto point = mapping.read_value<Point>(512);
    CHECK(point.x == 3);
    CHECK(point.y == -4);
    CHECK(point.weight == 0.5);
}

TEST_CASE("strings are stored with one NUL and read up to it", "[typed_access]")
{
    FileMapping mapping = make(32);
    mapping.write(std::string_view("hello world"));
    mapping.write(std::string_view("HI"));
    CHECK(mapping.read_string() == "HI"); // stops at the NUL written after "HI"
    CHECK(mapping.read_string(3) == "lo world");
    CHECK(mapping.bytes()[2] == std::byte{0});

    SECTION("a string that exactly fits, with its NUL")
    {
        mapping.write(std::string(31, 'a'));
        CHECK(mapping.read_string() == std::string(31, 'a'));
    }
    SECTION("one more character is refused and nothing is written")
    {
        const auto before = snapshot(mapping);
        CHECK_THROWS_AS(mapping.write(std::string(32, 'a')), std::out_of_range);
        CHECK(snapshot(mapping) == before);
    }
    SECTION("without a NUL, read_string stops at the end of the mapping")
    {
        std::vector<std::byte> full(32, std::byte{'z'});
        mapping.write(full);
        CHECK(mapping.read_string() == std::string(32, 'z'));
        CHECK(mapping.read_string(30) == "zz");
        CHECK(mapping.read_string(32).empty());
        CHECK_THROWS_AS(mapping.read_string(33), std::out_of_range);
    }
}

TEST_CASE("every access outside the mapping is out_of_range and touches nothing", "[typed_access]")
{
    FileMapping mapping = make(64);
    mapping.write(std::string_view("sentinel"));
    const auto before = snapshot(mapping);
    std::array<std::byte, 8> eight{};
    std::array<std::byte, 65> too_big{};

    CHECK_NOTHROW(mapping.write(eight, 56));
    mapping.write(std::string_view("sentinel"));
    CHECK_THROWS_AS(mapping.write(eight, 57), std::out_of_range);
    CHECK_THROWS_AS(mapping.write(too_big), std::out_of_range);
    CHECK_THROWS_AS(mapping.write(eight, npos), std::out_of_range);
    CHECK_THROWS_AS(mapping.write(eight, npos - 4), std::out_of_range);
    CHECK_THROWS_AS(mapping.write_value(std::uint64_t{1}, 60), std::out_of_range);
    CHECK_THROWS_AS(mapping.read(eight, 57), std::out_of_range);
    CHECK_THROWS_AS(mapping.read(eight, npos), std::out_of_range);
    CHECK_THROWS_AS(mapping.read_value<std::uint64_t>(57), std::out_of_range);
    CHECK_THROWS_AS(mapping.as_span<std::uint32_t>(0, 17), std::out_of_range);
    CHECK_THROWS_AS(mapping.as_span<std::uint32_t>(0, npos / 2), std::out_of_range);
    CHECK_THROWS_AS(mapping.as_span<std::uint32_t>(npos - 3, 1), std::out_of_range);
    CHECK_NOTHROW(mapping.write(std::span<const std::byte>{}, 64)); // empty, at the very end
    CHECK_THROWS_AS(mapping.write(std::span<const std::byte>{}, 65), std::out_of_range);
    CHECK(snapshot(mapping) == before);
}

TEST_CASE("out_of_range names the offset, the length and the size", "[typed_access]")
{
    FileMapping mapping = make(64);
    std::array<std::byte, 10> ten{};
    const auto what = test::thrown_what([&] { mapping.write(ten, 60); });
    CHECK(what.find(std::string(mapping.name())) != std::string::npos);
    CHECK(what.find("10 bytes at offset 60") != std::string::npos);
    CHECK(what.find("64 bytes") != std::string::npos);
}

TEST_CASE("as_span is a zero-copy typed window, checked for alignment", "[typed_access]")
{
    FileMapping mapping = make(4096);
    auto numbers = mapping.as_span<std::uint64_t>(64, 4);
    numbers[3] = 77;
    CHECK(mapping.read_value<std::uint64_t>(64 + 3 * 8) == 77);
    CHECK(static_cast<void*>(numbers.data()) == static_cast<void*>(mapping.bytes().data() + 64));

    CHECK(test::thrown_code([&] { mapping.as_span<std::uint64_t>(3, 1); }) ==
          std::errc::invalid_argument);
    CHECK(mapping.as_span<char>(3, 5).size() == 5);
}

TEST_CASE("a read-only mapping refuses every typed write before touching memory", "[typed_access]")
{
    const std::string name = test::unique_name("ro");
    FileMapping owner = FileMapping::create(name, 64);
    FileMapping reader = FileMapping::open(name, Access::read_only);
    std::array<std::byte, 4> four{};
    CHECK(test::thrown_code([&] { reader.write(four); }) == std::errc::permission_denied);
    CHECK(test::thrown_code([&] { reader.write("text"); }) == std::errc::permission_denied);
    CHECK(test::thrown_code([&] { reader.write_value(1); }) == std::errc::permission_denied);
    CHECK(test::thrown_code([&] { reader.as_span<int>(0, 1); }) == std::errc::permission_denied);
    // permission comes before bounds: an out-of-range write still says read-only
    CHECK(test::thrown_code([&] { reader.write(four, 1000); }) == std::errc::permission_denied);
    CHECK(reader.as_span<const int>(0, 16).size() == 16);
    CHECK(reader.read_value<int>() == 0);
}
