// A user's program: shares a string with itself through a named mapping, and
// uses a NamedMutex and a Channel, so that every library filemap needs
// (threads, rt) must come with it.
#include <filemap/filemap.hpp>

#include <cstdio>
#include <mutex>
#include <string>

#include <unistd.h>

int main()
{
    const std::string name = "fmt-" + std::to_string(::getpid()) + "-consumer";
    auto writer = filemap::FileMapping::create(name, 64);
    writer.write("consumed");
    const auto reader = filemap::FileMapping::open(name, filemap::Access::read_only);
    auto mutex = filemap::NamedMutex::create(name + "-mutex");
    auto channel = filemap::Channel::create(name + "-channel", 64);
    {
        const std::lock_guard lock(mutex);
        channel.send(reader.read_string());
    }
    if (channel.receive_string() != "consumed") {
        return 1;
    }
    std::puts("consumer: ok");
    return 0;
}
