// tests/anonymous_test.cpp - unnamed memory handed to a child process by
// handle inheritance, and adopting native handles.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <algorithm>

using filemap::Access;
using filemap::FileMapping;

namespace {

// Maps the inherited handle, reports what it read, and writes an answer.
const test::Role inherit("inherit", [](const test::Args& args) {
    std::error_code ec;
    FileMapping mapping = FileMapping::from_native_handle(test::handle_from_arg(args.at(0)), ec);
    test::tell(test::code_line(ec));
    if (!ec) {
        test::tell(mapping.read_string());
        mapping.write("child was here", 64);
    }
    return 0;
});

} // namespace

TEST_CASE("anonymous memory is zeroed, unnamed and of the asked size", "[anonymous]")
{
    FileMapping memory = FileMapping::anonymous(5000);
    CHECK(memory.size() == 5000);
    CHECK(memory.name().empty());
    CHECK(memory.created());
    CHECK(std::all_of(memory.bytes().begin(), memory.bytes().end(),
                      [](std::byte b) { return b == std::byte{0}; }));
    std::error_code ec;
    CHECK_FALSE(FileMapping::anonymous(0, ec).is_open());
    CHECK(ec == std::errc::invalid_argument);
}

TEST_CASE("an inheritable handle shares the memory with a child process", "[anonymous]")
{
    FileMapping memory = FileMapping::anonymous(4096);
    memory.write("from the parent");
    memory.set_inheritable(true);
    test::Child child = test::Child::role("inherit", {test::handle_arg(memory.native_handle())});
    CHECK_FALSE(test::code_from_line(child.read_line()));
    CHECK(child.read_line() == "from the parent");
    CHECK(child.wait() == 0);
    CHECK(memory.read_string(64) == "child was here");
}

TEST_CASE("a handle that is not inheritable does not reach the child", "[anonymous]")
{
    FileMapping memory = FileMapping::anonymous(4096);
    memory.set_inheritable(true);
    memory.set_inheritable(false);
    test::Child child = test::Child::role("inherit", {test::handle_arg(memory.native_handle())});
    CHECK(test::code_from_line(child.read_line()) == std::errc::bad_file_descriptor);
    CHECK(child.wait() == 0);
    CHECK(memory.read_string(64).empty());
}

TEST_CASE("from_native_handle adopts a handle, and leaves it to the caller on failure",
          "[anonymous]")
{
    FileMapping memory = FileMapping::anonymous(100);
    memory.write("adopted");
    FileMapping adopted =
        FileMapping::from_native_handle(test::duplicate(memory.native_handle()), Access::read_only);
    CHECK(adopted.size() == test::opened_size(100));
    CHECK(adopted.read_string() == "adopted");
    CHECK(adopted.access() == Access::read_only);
    const auto handle = adopted.native_handle();
    adopted.close();
    CHECK_FALSE(test::is_open(handle)); // it was ours to close

    const auto unmappable = test::unmappable_handle();
    std::error_code ec;
    CHECK_FALSE(FileMapping::from_native_handle(unmappable, ec).is_open());
    CHECK(ec);
    CHECK(test::is_open(unmappable)); // still the caller's
    test::close(unmappable);
}

TEST_CASE("set_inheritable on an empty mapping is bad_file_descriptor", "[anonymous]")
{
    FileMapping empty;
    std::error_code ec;
    empty.set_inheritable(true, ec);
    CHECK(ec == std::errc::bad_file_descriptor);
}
