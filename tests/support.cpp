// tests/support.cpp - unique names, child roles and the lines between parent
// and child; the platform halves are support_posix.cpp and support_windows.cpp.
#include "support.hpp"

#include "../examples/text.hpp"

#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace test {

namespace {

std::map<std::string, int (*)(const Args&)>& roles()
{
    static std::map<std::string, int (*)(const Args&)> all;
    return all;
}

} // namespace

std::string name_prefix()
{
    return "fmt-" + std::to_string(process_id()) + "-";
}

std::string unique_name(const std::string& what)
{
    static std::atomic<int> counter{0};
    return name_prefix() + what + "-" + std::to_string(counter++);
}

bool exists(const std::string& name)
{
    std::error_code ec;
    filemap::FileMapping::open(name, filemap::Access::read_only, ec);
    return !ec;
}

Role::Role(const char* name, int (*body)(const Args&))
{
    roles()[name] = body;
}

void tell(const std::string& line)
{
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

std::u16string to_utf16(const std::string& text)
{
    return example::to_utf16(text);
}

std::string from_utf16(std::u16string_view text)
{
    return example::to_utf8(text);
}

namespace {
const char* fatal_step = nullptr;
} // namespace

void die_at_step(const char* step)
{
    fatal_step = step;
    filemap::detail::step_hook = [](const char* reached) {
        if (std::string_view(reached) == fatal_step) {
            tell(std::string("dying at ") + reached);
            die_abruptly();
        }
    };
}

std::string hear()
{
    std::string line;
    std::getline(std::cin, line);
    return line;
}

std::string code_line(const std::error_code& ec)
{
    return "code " + std::to_string(ec.value());
}

std::error_code code_from_line(const std::string& line)
{
    if (line.rfind("code ", 0) != 0) {
        throw std::runtime_error("expected a code line from the child, got \"" + line + "\"");
    }
    return {std::stoi(line.substr(5)), std::generic_category()};
}

int run_role(int argc, char** argv)
{
    become_child();
    const Args all = arguments(argc, argv);
    const auto found = roles().find(all.at(2));
    if (found == roles().end()) {
        std::fprintf(stderr, "no child role %s\n", argv[2]);
        return 99;
    }
    try {
        return found->second(Args(all.begin() + 3, all.end()));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child %s: %s\n", argv[2], e.what());
        return 98;
    }
}

Child::Child(Child&& other) noexcept
    : id_(std::exchange(other.id_, -1)), input_(std::exchange(other.input_, -1)),
      output_(std::exchange(other.output_, -1)), reaped_(other.reaped_), status_(other.status_)
{
}

} // namespace test
