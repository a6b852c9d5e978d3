// tests/windows_unicode_test.cpp - filemap against the Windows programs it grew
// from, built UNICODE as they are by default: Microsoft's "Creating Named
// Shared Memory" server and client (TCHAR is wchar_t, CopyMemory copies
// UTF-16 without a terminator into a zero-filled section), AutoHotkey's
// FileMapping class (StrPut: UTF-16 with a two-byte terminator, at any
// offset), and names such programs use: GUIDs, spaces, any script.
#include "support.hpp"

#include <filemap/filemap.hpp>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <cstring>
#include <string>

using filemap::FileMapping;

namespace {

constexpr DWORD buf_size = 256; // BUF_SIZE in the sample
const wchar_t sample_message[] = L"Message from first process.";

std::string utf8(const wchar_t* text)
{
    const std::wstring_view view(text);
    return test::from_utf16(
        std::u16string_view(reinterpret_cast<const char16_t*>(view.data()), view.size()));
}

// NAME: the sample's server, as written: CreateFileMapping(INVALID_HANDLE_VALUE,
// NULL, PAGE_READWRITE, 0, BUF_SIZE, szName), MapViewOfFile(FILE_MAP_ALL_ACCESS),
// CopyMemory(pBuf, szMsg, _tcslen(szMsg) * sizeof(TCHAR)); holds it until told.
const test::Role unicode_server("unicode-server", [](const test::Args& args) {
    HANDLE map_file = ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0,
                                           buf_size, test::widen(args.at(0)).c_str());
    if (map_file == nullptr) {
        test::tell("CreateFileMapping failed " + std::to_string(::GetLastError()));
        return 1;
    }
    auto* buf =
        static_cast<wchar_t*>(::MapViewOfFile(map_file, FILE_MAP_ALL_ACCESS, 0, 0, buf_size));
    ::CopyMemory(buf, sample_message, std::wcslen(sample_message) * sizeof(wchar_t));
    test::tell("created");
    test::hear();
    ::UnmapViewOfFile(buf);
    ::CloseHandle(map_file);
    return 0;
});

// NAME: the sample's client: OpenFileMapping(FILE_MAP_ALL_ACCESS, FALSE, szName)
// and MapViewOfFile; says the text (the sample shows it in a MessageBox).
const test::Role unicode_client("unicode-client", [](const test::Args& args) {
    HANDLE map_file =
        ::OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, test::widen(args.at(0)).c_str());
    if (map_file == nullptr) {
        test::tell("OpenFileMapping failed " + std::to_string(::GetLastError()));
        return 1;
    }
    auto* buf =
        static_cast<wchar_t*>(::MapViewOfFile(map_file, FILE_MAP_ALL_ACCESS, 0, 0, buf_size));
    test::tell(utf8(buf));
    ::UnmapViewOfFile(buf);
    ::CloseHandle(map_file);
    return 0;
});

// NAME OFFSET TEXT: AutoHotkey's FileMapping.Write: StrPut(TEXT, ptr + OFFSET,
// "UTF-16"), which stores the code units and a two-byte terminator.
const test::Role autohotkey_writer("autohotkey-writer", [](const test::Args& args) {
    HANDLE map_file =
        ::OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, test::widen(args.at(0)).c_str());
    auto* base = static_cast<char*>(::MapViewOfFile(map_file, FILE_MAP_ALL_ACCESS, 0, 0, 0));
    const std::wstring text = test::widen(args.at(2));
    std::memcpy(base + std::stoul(args.at(1)), text.c_str(), (text.size() + 1) * sizeof(wchar_t));
    test::tell("written");
    ::UnmapViewOfFile(base);
    ::CloseHandle(map_file);
    return 0;
});

} // namespace

TEST_CASE("filemap reads what the UNICODE sample server wrote", "[windows_unicode]")
{
    const std::string name = "Local\\" + test::unique_name("MyFileMappingObject");
    test::Child server = test::Child::role("unicode-server", {name});
    REQUIRE(server.read_line() == "created");
    FileMapping mapping = FileMapping::open(name);
    CHECK(mapping.read_wstring() == sample_message);
    CHECK(mapping.read_u16string() == u"Message from first process.");
    CHECK(mapping.read_string() == "M"); // what a narrow read finds: 'M', then a zero byte
    server.say("go");
    CHECK(server.wait() == 0);
}

TEST_CASE("the UNICODE sample client reads what write(wstring_view) stored, byte for byte",
          "[windows_unicode]")
{
    const std::string name = "Local\\" + test::unique_name("MyFileMappingObject");
    FileMapping mapping = FileMapping::create(name, buf_size);
    mapping.write(std::wstring_view(sample_message));
    // The bytes CopyMemory(pBuf, szMsg, _tcslen(szMsg) * sizeof(TCHAR)) stores, then L'\0'.
    const std::size_t length = std::wcslen(sample_message) * sizeof(wchar_t);
    CHECK(std::memcmp(mapping.bytes().data(), sample_message, length + sizeof(wchar_t)) == 0);
    test::Child client = test::Child::role("unicode-client", {name});
    CHECK(client.read_line() == "Message from first process.");
    CHECK(client.wait() == 0);
}

TEST_CASE("AutoHotkey's StrPut at an odd offset is read back by read_wstring", "[windows_unicode]")
{
    const std::string name = test::unique_name("ahk");
    FileMapping mapping = FileMapping::create(name, buf_size);
    const std::string text = "Hello from AutoHotkey \xe2\x98\xba \xf0\x9f\x93\xa6";
    test::Child writer = test::Child::role("autohotkey-writer", {name, "3", text});
    REQUIRE(writer.read_line() == "written");
    CHECK(writer.wait() == 0);
    const std::u16string read = mapping.read_u16string(3);
    CHECK(test::from_utf16(read) == text);
    CHECK(mapping.read_wstring(3) == test::widen(text));
}

TEST_CASE("GUID, space and non-ASCII names reach plain Win32 programs, both ways",
          "[windows_unicode]")
{
    const std::string names[] = {
        "Local\\{3F2504E0-4F89-11D3-9A0C-0305E82C3301} " + test::unique_name("shared map"),
        "Local\\" + test::unique_name("caf\xc3\xa9 \xe5\x90\x8d\xe5\x89\x8d \xf0\x9f\x93\xa6"),
    };
    for (const std::string& name : names) {
        INFO("name: " << name);
        // A Win32 program creates it; filemap opens it by the UTF-8 name.
        test::Child server = test::Child::role("unicode-server", {name});
        REQUIRE(server.read_line() == "created");
        CHECK(FileMapping::open(name).read_wstring() == sample_message);
        server.say("go");
        CHECK(server.wait() == 0);
        // filemap creates it; a Win32 program opens it by the UTF-16 name.
        FileMapping mapping = FileMapping::create(name, buf_size);
        mapping.write(std::wstring_view(L"from filemap"));
        test::Child client = test::Child::role("unicode-client", {name});
        CHECK(client.read_line() == "from filemap");
        CHECK(client.wait() == 0);
    }
}
