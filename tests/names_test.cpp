// tests/names_test.cpp - the portable name rules: what is accepted, what is
// refused, and that the refusal says which rule broke.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <string>

using filemap::FileMapping;

namespace {

// NAME: opens NAME and says the text at its start.
const test::Role read_named("read-named", [](const test::Args& args) {
    test::tell(FileMapping::open(args.at(0)).read_string());
    return 0;
});

std::string refusal(const std::string& name)
{
    return test::thrown_what([&] { FileMapping::create(name, 64); });
}

} // namespace

TEST_CASE("names of printable UTF-8 work: spaces, braces, GUIDs, any script", "[names]")
{
    const std::string names[] = {
        test::unique_name("Az_09.-"),
        test::unique_name("with spaces and (parentheses)"),
        "Local\\{3F2504E0-4F89-11D3-9A0C-0305E82C3301}-" + test::unique_name("guid"),
        test::unique_name("semi;colon:comma,at@percent%plus+equals=tilde~"),
        test::unique_name(
            "caf\xc3\xa9-\xce\xb6\xcf\x89\xce\xae-\xe5\x90\x8d\xe5\x89\x8d-\xf0\x9f\x93\xa6"),
    };
    for (const std::string& name : names) {
        INFO("name: " << name);
        FileMapping mapping = FileMapping::create(name, 64);
        mapping.write(name);
        CHECK(mapping.name() == name);
        FileMapping opened = FileMapping::open(name);
        CHECK(opened.size() == test::opened_size(64));
        CHECK(opened.read_string() == name);
    }
}

TEST_CASE("a non-ASCII name means the same object to another process", "[names]")
{
    const std::string name = test::unique_name(
        "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xe4\xb8\x96\xe7\x95\x8c");
    FileMapping mapping = FileMapping::create(name, 64);
    mapping.write("seen by the other process");
    test::Child child = test::Child::role("read-named", {name});
    CHECK(child.read_line() == "seen by the other process");
    CHECK(child.wait() == 0);
}

TEST_CASE("the longest allowed name works and one more byte does not", "[names]")
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
        {"a/b", "'/' at byte 1"},
        {"/leading", "'/' at byte 0"},
        {"a\\b", "only Local\\ or Global\\ may lead"},
        {"Other\\x", "'\\' (only Local\\ or Global\\ may lead) at byte 5"},
        {std::string("nul\0inside", 10), "a NUL character at byte 3"},
        {"tab\there", "the control character U+0009 at byte 3"},
        {"del\x7f", "the control character U+007F at byte 3"},
        {"c1\xc2\x85", "the control character U+0085 at byte 2"},
        {"Local\\hash#tag", "'#' (reserved: filemap names its kernel objects"},
        {".", "may not be"},
        {"..", "may not be"},
        {"Global\\..", "may not be"},
        {"lone\x80", "not valid UTF-8 at byte 4"},
        {"overlong\xc0\xaf", "not valid UTF-8 at byte 8"},
        {"surrogate\xed\xa0\x80", "not valid UTF-8 at byte 9"},
        {"cut\xe5\x90", "not valid UTF-8 at byte 3"},
        {"beyond\xf4\x90\x80\x80", "not valid UTF-8 at byte 6"},
        {"latin1-caf\xe9", "not valid UTF-8 at byte 10"},
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
