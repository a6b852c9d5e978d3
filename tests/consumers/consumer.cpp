// A user's program: shares a string with itself through a named mapping.
#include <filemap/filemap.hpp>

#include <cstdio>
#include <string>

int main()
{
    const std::string name = "filemap-consumer-check";
    auto writer = filemap::FileMapping::create(name, 64);
    writer.write("consumed");
    const auto reader = filemap::FileMapping::open(name, filemap::Access::read_only);
    if (reader.read_string() != "consumed") {
        return 1;
    }
    std::puts("consumer: ok");
    return 0;
}
