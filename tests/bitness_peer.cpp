// tests/bitness_peer.cpp - the other side of posix_bitness_test.cpp, built as
// a 32-bit program (g++ -m32 -static) and run under qemu-i386: it locks the
// same NamedMutex and talks over the same Channels as the 64-bit test binary.
// Standalone (no Catch2): roles are the first argument; it reports with lines
// on standard output and waits for lines on standard input.
#include "bitness_messages.hpp"

#include <filemap/filemap.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

void tell(const std::string& line)
{
    std::cout << line << std::endl;
}

std::string hear()
{
    std::string line;
    std::getline(std::cin, line);
    return line;
}

int run(const std::vector<std::string>& args)
{
    const std::string& role = args.at(0);
    tell(std::string("bits ") + std::to_string(sizeof(void*) * 8));
    if (role == "lock") { // NAME: lock, hold until told, unlock
        filemap::NamedMutex mutex = filemap::NamedMutex::open(args.at(1));
        mutex.lock();
        tell(mutex.previous_owner_died() ? "locked, owner died" : "locked");
        hear();
        mutex.unlock();
        tell("unlocked");
    } else if (role == "lock-and-die") { // NAME: lock, then die holding it
        filemap::NamedMutex mutex = filemap::NamedMutex::open(args.at(1));
        mutex.lock();
        tell("locked");
        ::kill(::getpid(), SIGKILL);
    } else if (role == "echo") { // IN OUT: send back every message until an empty one
        filemap::Channel in = filemap::Channel::open(args.at(1));
        filemap::Channel out = filemap::Channel::open(args.at(2));
        tell("echoing");
        for (;;) {
            const std::vector<std::byte> got = in.receive();
            if (got.empty()) {
                break;
            }
            out.send(got);
        }
    } else if (role == "create-and-send") { // NAME COUNT: create a channel, send COUNT messages
        filemap::Channel channel = filemap::Channel::create(args.at(1), 1000);
        tell("created");
        hear();
        const std::size_t count = std::stoul(args.at(2));
        for (std::size_t i = 0; i < count; ++i) {
            channel.send(bitness::message(i, channel.capacity()));
        }
        tell("sent");
        hear(); // the channel lives until the reader has it all
    } else {
        tell("unknown role " + role);
        return 2;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& e) {
        tell(std::string("error: ") + e.what());
        return 1;
    }
}
