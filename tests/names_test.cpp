// tests/names_test.cpp - the portable name rules: what is accepted, what is
// refused, and that the refusal says which rule broke.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <string>

using filemap::FileMapping;

namespace {

std::string refusal(const std::string& name)
{
    return test::thrown_what([&] { FileMapping::create(name, 64); });
}

} // namespace

TEST_CASE("names of the allowed characters work", "[names]")
{
    const std::string base = test::unique_name("Az_09.-");
    FileMapping mapping = FileMapping::create(base, 64);
    CHECK(mapping.name() == base);
    CHECK(FileMapping::open(base).size() == test::opened_size(64));
}

TEST_CASE("the longest allowed name works and one more character does not", "[names]")
{
    std::string name = test::unique_name("long");
    name += std::string(filemap::detail::max_name_length - name.size(), 'x');
    CHECK(FileMapping::create(name, 64).is_open());

    std::error_code ec;
    FileMapping::create(name + "x", 64, ec);
    CHECK(ec == std::errc::invalid_argument);
    CHECK(refusal(name + "x").find("the limit is") != std::string::npos);
}

TEST_CASE("Local\\ and Global\\ prefixes are accepted", "[names]")
{
    const std::string name = test::unique_name("prefixed");
    FileMapping local = FileMapping::create("Local\\" + name, 64);
    CHECK(local.name() == "Local\\" + name);
    local.write("via Local");
    // Without a prefix, Local\ is the same namespace on every platform.
    CHECK(FileMapping::open(name).read_string() == "via Local");
}

TEST_CASE("names outside the rules are invalid_argument, saying which rule broke", "[names]")
{
    struct Case {
        std::string name;
        std::string says;
    };
    const Case cases[] = {
        {"", "empty"},
        {"Local\\", "only a prefix"},
        {"a/b", "'/' at position 1"},
        {"/leading", "'/' at position 0"},
        {"a\\b", "only Local\\ or Global\\ may lead"},
        {"Other\\x", "'\\' (only Local\\ or Global\\ may lead) at position 5"},
        {"with space", "\" \" at position 4"},
        {std::string("nul\0inside", 10), "a NUL character at position 3"},
        {".", "may not be"},
        {"..", "may not be"},
        {"caf\xc3\xa9", "at position 3"},
        {"semi;colon", "at position 4"},
    };
    for (const auto& c : cases) {
        INFO("name: " << filemap::detail::quoted(c.name));
        std::error_code ec;
        CHECK_FALSE(FileMapping::open_or_create(c.name, 64, ec).is_open());
        CHECK(ec == std::errc::invalid_argument);
        CHECK(test::thrown_code([&] { FileMapping::open(c.name); }) == std::errc::invalid_argument);
        CHECK(FileMapping::remove(c.name, ec) == false);
        CHECK(ec == std::errc::invalid_argument);
        CHECK(refusal(c.name).find(c.says) != std::string::npos);
    }
}

TEST_CASE("a refused name never reaches the system", "[names]")
{
    // "../x" would name a file outside the shared memory directory.
    std::error_code ec;
    FileMapping::create("../" + test::unique_name("escape"), 64, ec);
    CHECK(ec == std::errc::invalid_argument);
    CHECK(test::leftovers().empty());
}
