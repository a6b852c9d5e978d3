// tests/windows_test.cpp - what only Windows has: namespaces, names shared
// with other kinds of objects, persistent lifetime refused, and plain Win32
// programs as peers.
#include "support.hpp"

#include <filemap/filemap.hpp>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <algorithm>
#include <cstring>
#include <utility>

using filemap::FileMapping;

namespace {

// A plain Win32 program: OpenFileMappingW + MapViewOfFile, nothing else.
const test::Role raw_reader("raw-reader", [](const test::Args& args) {
    HANDLE section =
        ::OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, test::widen(args.at(0)).c_str());
    if (section == nullptr) {
        test::tell("open failed " + std::to_string(::GetLastError()));
        return 1;
    }
    auto* view = static_cast<char*>(::MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0, 256));
    test::tell(view);
    std::strcpy(view + 128, "raw reply");
    ::UnmapViewOfFile(view);
    ::CloseHandle(section);
    return 0;
});

// A plain Win32 program that creates the object and holds it until told to go.
const test::Role raw_creator("raw-creator", [](const test::Args& args) {
    HANDLE section = ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, 256,
                                          test::widen(args.at(0)).c_str());
    auto* view = static_cast<char*>(::MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0, 256));
    std::strcpy(view, "Message from first process");
    test::tell("created");
    test::hear();
    ::UnmapViewOfFile(view);
    ::CloseHandle(section);
    return 0;
});

// A plain Win32 program reading a growable object: it maps the whole
// section and learns the size as the run of committed pages (VirtualQuery).
// With "commit N", it then commits N more pages through its read-only
// view, as any reader can. Says "committed <bytes> <first string>", then
// "raised" or the error.
const test::Role raw_growth_reader("raw-growth-reader", [](const test::Args& args) {
    HANDLE section = ::OpenFileMappingW(FILE_MAP_READ, FALSE, test::widen(args.at(0)).c_str());
    auto* view = section == nullptr
                     ? nullptr
                     : static_cast<char*>(::MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0));
    if (view == nullptr) {
        test::tell("open failed " + std::to_string(::GetLastError()));
        return 1;
    }
    MEMORY_BASIC_INFORMATION info{};
    ::VirtualQuery(view, &info, sizeof info);
    const SIZE_T committed = info.State == MEM_COMMIT ? info.RegionSize : 0;
    test::tell("committed " + std::to_string(committed) + " " + view);
    if (args.size() > 2 && args.at(1) == "commit") {
        const SIZE_T more = 4096 * std::stoul(args.at(2));
        const bool raised =
            ::VirtualAlloc(view + committed, more, MEM_COMMIT, PAGE_READONLY) != nullptr;
        test::tell(raised ? "raised" : "commit failed " + std::to_string(::GetLastError()));
    }
    ::UnmapViewOfFile(view);
    ::CloseHandle(section);
    return 0;
});

} // namespace

TEST_CASE("a plain Win32 program reads a growable object by its committed pages; a reader that "
          "commits more only adds zeros",
          "[windows]")
{
    const std::string name = test::unique_name("raw-growth");
    filemap::Options options;
    options.max_size = 64 * 4096;
    FileMapping mapping = FileMapping::create(name, 4096, options);
    mapping.write("grown");
    mapping.grow(20 * 4096);
    test::Child reader = test::Child::role("raw-growth-reader", {name});
    CHECK(reader.read_line() == "committed " + std::to_string(20 * 4096) + " grown");
    CHECK(reader.wait() == 0);

    // A reader raises the size others learn, by two pages of zeros.
    test::Child raiser = test::Child::role("raw-growth-reader", {name, "commit", "2"});
    CHECK(raiser.read_line() == "committed " + std::to_string(20 * 4096) + " grown");
    CHECK(raiser.read_line() == "raised");
    CHECK(raiser.wait() == 0);
    CHECK(mapping.refresh() == 22 * 4096);
    const auto added = std::as_const(mapping).bytes().subspan(20 * 4096);
    CHECK(std::all_of(added.begin(), added.end(), [](std::byte b) { return b == std::byte{0}; }));
    CHECK(mapping.read_string() == "grown");
}

TEST_CASE("a plain Win32 program opens what filemap created", "[windows]")
{
    const std::string name = test::unique_name("raw-peer");
    FileMapping mapping = FileMapping::create("Local\\" + name, 256);
    mapping.write("from filemap");
    test::Child child = test::Child::role("raw-reader", {"Local\\" + name});
    CHECK(child.read_line() == "from filemap");
    CHECK(child.wait() == 0);
    CHECK(mapping.read_string(128) == "raw reply");
}

TEST_CASE("filemap opens what a plain Win32 program created", "[windows]")
{
    const std::string name = test::unique_name("raw-made");
    test::Child child = test::Child::role("raw-creator", {name});
    REQUIRE(child.read_line() == "created");
    FileMapping mapping = FileMapping::open(name);
    CHECK(mapping.read_string() == "Message from first process");
    CHECK(mapping.size() >= 256); // Wine rounds the section size up to a page
    std::error_code ec;
    FileMapping::create(name, 256, ec);
    CHECK(ec == std::errc::file_exists);
    child.say("go");
    CHECK(child.wait() == 0);
}

TEST_CASE("persistent lifetime and remove are not supported on Windows", "[windows]")
{
    filemap::Options options;
    options.lifetime = filemap::Lifetime::persistent;
    std::error_code ec;
    CHECK_FALSE(FileMapping::create(test::unique_name("persist"), 64, options, ec).is_open());
    CHECK(ec == std::errc::not_supported);
    CHECK_FALSE(FileMapping::remove(test::unique_name("remove"), ec));
    CHECK(ec == std::errc::not_supported);
}

TEST_CASE("a name held by another kind of object is a clear error", "[windows]")
{
    const std::string name = test::unique_name("event");
    HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, test::widen(name).c_str());
    REQUIRE(event != nullptr);
    std::error_code ec;
    CHECK_FALSE(FileMapping::create(name, 64, ec).is_open());
    CHECK(ec == std::errc::invalid_argument);
    CHECK(test::thrown_what([&] { FileMapping::open(name); }).find("another kind of object") !=
          std::string::npos);
    ::CloseHandle(event);
}

TEST_CASE("Global\\ is its own namespace", "[windows]")
{
    const std::string name = test::unique_name("global");
    FileMapping global = FileMapping::create("Global\\" + name, 64);
    std::error_code ec;
    FileMapping::open("Local\\" + name, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK(FileMapping::open("Global\\" + name).size() >= 64);
}

TEST_CASE("Win32 errors are translated into the same std::errc as on POSIX", "[windows]")
{
    using filemap::detail::Error;
    const auto code = [](unsigned long win32) {
        Error error;
        filemap::detail::win::set_win32(error, win32);
        return error.code();
    };
    CHECK(code(2) == std::errc::no_such_file_or_directory);
    CHECK(code(5) == std::errc::permission_denied);
    CHECK(code(183) == std::errc::file_exists);
    CHECK(code(87) == std::errc::invalid_argument);
    CHECK(code(8) == std::errc::not_enough_memory);
    CHECK(code(1006) == std::errc::invalid_argument);
    CHECK(code(6) == std::errc::bad_file_descriptor);
    // Without the privilege, Global\ says which privilege is missing.
    Error error;
    filemap::detail::Error parse;
    filemap::detail::win::set_named_failure(error, filemap::detail::parse_name("Global\\x", parse),
                                            1314);
    CHECK(error.code() == std::errc::permission_denied);
    CHECK(error.detail().find("SeCreateGlobalPrivilege") != std::string::npos);
}

TEST_CASE("huge pages are large-page sections; without the privilege the error names it",
          "[windows]")
{
    filemap::Options options;
    options.huge_pages = true;
    std::error_code ec;
    FileMapping mapping = FileMapping::create(test::unique_name("huge"), 1 << 21, options, ec);
    const std::string what = test::thrown_what(
        [&] { FileMapping::create(test::unique_name("huge"), 1 << 21, options); });
    INFO("huge pages here: " << (ec ? what : "granted"));
    if (!ec) { // the process holds SeLockMemoryPrivilege
        mapping.write("on large pages");
        CHECK(mapping.read_string() == "on large pages");
    } else if (ec == std::errc::permission_denied) {
        CHECK(what.find("SeLockMemoryPrivilege") != std::string::npos);
    } else {
        CHECK(ec == std::errc::not_supported);
        CHECK(what.find("no large pages") != std::string::npos);
    }
    // The translation itself, whatever this system does.
    filemap::detail::Error error;
    filemap::detail::win::set_large_pages_failure(error, 1314, "CreateFileMappingW");
    CHECK(error.code() == std::errc::permission_denied);
    CHECK(error.detail().find("SeLockMemoryPrivilege") != std::string::npos);
}
