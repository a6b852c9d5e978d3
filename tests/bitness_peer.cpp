// tests/bitness_peer.cpp - the other side of posix_bitness_test.cpp, built as
// a 32-bit program (g++ -m32 -static) and run under qemu-i386: it locks the
// same NamedMutex, talks over the same Channels and Topics and shares the
// same Shared<T> objects as the 64-bit test binary.
// Standalone (no Catch2): roles are the first argument; it reports with lines
// on standard output and waits for lines on standard input.
#include "bitness_messages.hpp"
#include "shared_types.hpp"

#include <filemap/filemap.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <span>
#include <string>
#include <type_traits>
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
        hear();                          // the channel lives until the reader has it all
    } else if (role == "shared-count") { // NAME N: N increments under lock()
        auto shared = filemap::Shared<shared_types::Counter>::open(args.at(1));
        tell("counting");
        for (int i = std::stoi(args.at(2)); i > 0; --i) {
            auto guard = shared.lock();
            guard->count = guard->count + 1;
            guard->writer = 32;
        }
        tell("counted");
    } else if (role == "shared-create") { // NAME: create {1000, 32}, report the next change
        auto shared = filemap::Shared<shared_types::Counter>::create(
            args.at(1), shared_types::Counter{1000, 32, 0});
        const std::uint64_t seen = shared.version();
        tell("created");
        if (!shared.wait_for_change(seen, std::chrono::seconds(10))) {
            tell("timed out");
            return 1;
        }
        const shared_types::Counter now = shared.load();
        tell("changed " + std::to_string(now.count) + " by " + std::to_string(now.writer));
        hear();
    } else if (role == "shared-open" || role == "shared-make") { // NAME TYPE: say how it went
        const auto attempt = [&](auto made) {
            using T = typename decltype(made)::type;
            if (role == "shared-make") {
                auto shared = filemap::Shared<T>::create(args.at(1));
                tell("created");
                hear();
            } else {
                tell(filemap::Shared<T>::open(args.at(1)).is_open() ? "opened" : "closed");
            }
        };
        if (args.at(2) == "WithLong") {
            attempt(std::type_identity<shared_types::WithLong>{});
        } else {
            attempt(std::type_identity<shared_types::Unaligned>{});
        }
    } else if (role ==
               "subscribe") { // NAME COUNT: receive COUNT topic messages, say how many were right
        filemap::Subscriber subscriber = filemap::Subscriber::open(args.at(1));
        tell("subscribed");
        const std::size_t count = std::stoul(args.at(2));
        std::size_t right = 0;
        for (std::size_t i = 0; i < count; ++i) {
            subscriber.receive_with([&](std::span<const std::byte> got) {
                const auto expected = bitness::message(i, subscriber.capacity());
                right += std::equal(got.begin(), got.end(), expected.begin(), expected.end());
            });
        }
        tell("right " + std::to_string(right) + " missed " + std::to_string(subscriber.missed()));
    } else if (role ==
               "publish") { // NAME COUNT: publish COUNT topic messages once told, built in place
        filemap::Topic topic = filemap::Topic::open(args.at(1));
        tell("opened");
        hear();
        const std::size_t count = std::stoul(args.at(2));
        for (std::size_t i = 0; i < count; ++i) {
            const auto message = bitness::message(i, topic.capacity());
            filemap::Loan loan = topic.prepare(message.size());
            std::copy(message.begin(), message.end(), loan.data());
            loan.commit();
        }
        tell("published");
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
