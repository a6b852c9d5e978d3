// tests/cross_process_test.cpp - two programs sharing memory by name: the
// classic writer/reader pair, and access modes seen from a second process.
#include "support.hpp"

#include <filemap/filemap.hpp>

using filemap::Access;
using filemap::FileMapping;

namespace {

// Reads the message, answers at offset 128.
const test::Role reply("reply", [](const test::Args& args) {
    FileMapping mapping = FileMapping::open(args.at(0));
    const std::string message = mapping.read_string();
    mapping.write("re: " + message, 128);
    return 0;
});

// Tries to write through the given access mode; reports the code it met.
const test::Role try_write("try-write", [](const test::Args& args) {
    const Access access = args.at(1) == "read_only" ? Access::read_only : Access::copy_on_write;
    FileMapping mapping = FileMapping::open(args.at(0), access);
    std::error_code ec;
    try {
        mapping.write("scribble");
    } catch (const std::system_error& e) {
        ec = e.code();
    }
    test::tell(test::code_line(ec));
    test::tell(mapping.read_string());
    return 0;
});

} // namespace

TEST_CASE("a second process reads what the first wrote and answers", "[cross_process]")
{
    const std::string name = test::unique_name("pair");
    FileMapping mapping = FileMapping::create(name, 256);
    mapping.write("Message from first process");
    CHECK(test::Child::role("reply", {name}).wait() == 0);
    CHECK(mapping.read_string(128) == "re: Message from first process");
}

TEST_CASE("a read-only opener in another process cannot write", "[cross_process]")
{
    const std::string name = test::unique_name("ro-child");
    FileMapping mapping = FileMapping::create(name, 64);
    mapping.write("intact");
    test::Child child = test::Child::role("try-write", {name, "read_only"});
    CHECK(test::code_from_line(child.read_line()) == std::errc::permission_denied);
    CHECK(child.read_line() == "intact");
    CHECK(child.wait() == 0);
    CHECK(mapping.read_string() == "intact");
}

TEST_CASE("copy_on_write writes in another process stay in that process", "[cross_process]")
{
    const std::string name = test::unique_name("cow-child");
    FileMapping mapping = FileMapping::create(name, 64);
    mapping.write("intact");
    test::Child child = test::Child::role("try-write", {name, "copy_on_write"});
    CHECK_FALSE(test::code_from_line(child.read_line()));
    CHECK(child.read_line() == "scribble"); // the child sees its own write
    CHECK(child.wait() == 0);
    CHECK(mapping.read_string() == "intact"); // we do not
}
