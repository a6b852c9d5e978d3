// tests/posix_bitness_test.cpp - a 32-bit program and this 64-bit one share a
// NamedMutex, Channels, Topics and Shared<T> objects: the layouts are the same bytes
// in both, and a T that differs between them is refused by name. The peer is
// tests/bitness_peer.cpp built with g++ -m32 -static and run under
// qemu-i386 (this kernel runs no 32-bit code natively); CMake builds it and
// registers this file only where both exist (FILEMAP_TEST_32BIT).
#include "bitness_messages.hpp"
#include "shared_types.hpp"
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <string>
#include <vector>

using filemap::Channel;
using filemap::NamedMutex;

using namespace std::chrono_literals;

namespace {

/// The 32-bit peer in `role`; it first says how many bits it has.
test::Child peer32(const test::Args& args)
{
    return test::Child::foreign(FILEMAP_QEMU_I386, FILEMAP_PEER_I386, args, "bits 32");
}

} // namespace

TEST_CASE("a 32-bit process and a 64-bit one exclude each other with one NamedMutex",
          "[posix_bitness]")
{
    const std::string name = test::unique_name("mutex32");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child peer = peer32({"lock", name});
    REQUIRE(peer.read_line() == "locked");
    CHECK_FALSE(mutex.try_lock());
    // qemu fakes the start time a 32-bit process reads of itself: a live
    // 32-bit holder must still never be taken for dead, over many checks.
    CHECK_FALSE(mutex.try_lock_for(std::chrono::milliseconds(200)));
    peer.say("go");
    REQUIRE(mutex.try_lock_for(std::chrono::seconds(10)));
    CHECK_FALSE(mutex.previous_owner_died());
    CHECK(peer.read_line() == "unlocked");
    CHECK(peer.wait() == 0);

    // And the other way round: the 32-bit side waits for us.
    test::Child waiter = peer32({"lock", name});
    mutex.unlock();
    CHECK(waiter.read_line() == "locked");
    waiter.say("go");
    CHECK(waiter.read_line() == "unlocked");
    CHECK(waiter.wait() == 0);
}

TEST_CASE("a 32-bit holder killed holding the lock is recovered by a 64-bit waiter",
          "[posix_bitness]")
{
    const std::string name = test::unique_name("orphan32");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child peer = peer32({"lock-and-die", name});
    REQUIRE(peer.read_line() == "locked");
    REQUIRE(mutex.try_lock_for(std::chrono::seconds(10)));
    CHECK(mutex.previous_owner_died());
    mutex.unlock();
    CHECK(peer.wait() != 0);
}

TEST_CASE("a 64-bit holder killed holding the lock is recovered by a 32-bit waiter",
          "[posix_bitness]")
{
    const std::string name = test::unique_name("orphan64");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child holder = test::Child::role("lock-and-die", {name});
    REQUIRE(holder.read_line() == "locked");
    CHECK(holder.wait() != 0);
    test::Child peer = peer32({"lock", name});
    CHECK(peer.read_line() == "locked, owner died");
    peer.say("go");
    CHECK(peer.read_line() == "unlocked");
    CHECK(peer.wait() == 0);
}

TEST_CASE("messages cross between 32 and 64 bits whole, in order, wrapping the ring",
          "[posix_bitness]")
{
    const std::string there = test::unique_name("to32");
    const std::string back = test::unique_name("from32");
    Channel out = Channel::create(there, 300);
    Channel in = Channel::create(back, 300);
    test::Child peer = peer32({"echo", there, back});
    REQUIRE(peer.read_line() == "echoing");
    int same = 0;
    constexpr int count = 500;
    for (int i = 0; i < count; ++i) {
        const auto message = bitness::message(static_cast<std::size_t>(i), out.capacity());
        out.send(message);
        same += in.receive() == message ? 1 : 0;
    }
    CHECK(same == count);
    out.send(std::span<const std::byte>{});
    CHECK(peer.wait() == 0);
}

TEST_CASE("a channel a 32-bit process created is opened and read by a 64-bit one",
          "[posix_bitness]")
{
    const std::string name = test::unique_name("made32");
    constexpr std::size_t count = 300;
    test::Child peer = peer32({"create-and-send", name, std::to_string(count)});
    REQUIRE(peer.read_line() == "created");
    Channel channel = Channel::open(name);
    CHECK(channel.capacity() == 1000);
    peer.say("go");
    std::size_t same = 0;
    for (std::size_t i = 0; i < count; ++i) {
        same += channel.receive() == bitness::message(i, channel.capacity()) ? 1u : 0u;
    }
    CHECK(same == count);
    CHECK(peer.read_line() == "sent");
    peer.say("bye");
    CHECK(peer.wait() == 0);
}

TEST_CASE("a topic carries every message to 32- and 64-bit subscribers, from either side",
          "[posix_bitness]")
{
    const std::string name = test::unique_name("topic32");
    filemap::Topic topic = filemap::Topic::create(name, 300, filemap::Overflow::block);
    constexpr std::size_t count = 500; // many times the ring: publishers wait for the 32-bit side
    test::Child subscriber32 = peer32({"subscribe", name, std::to_string(count)});
    REQUIRE(subscriber32.read_line() == "subscribed");
    filemap::Subscriber subscriber64 = filemap::Subscriber::open(name);
    test::Child publisher32 = peer32({"publish", name, std::to_string(count)});
    REQUIRE(publisher32.read_line() == "opened");

    // The 64-bit side publishes first (copies), then the 32-bit side (loans).
    std::size_t right = 0;
    const auto receive = [&](std::size_t i) {
        const auto got = subscriber64.receive_for(30s);
        right += got && *got == bitness::message(i, topic.capacity()) ? 1u : 0u;
    };
    for (std::size_t i = 0; i < count; ++i) {
        topic.publish(bitness::message(i, topic.capacity()));
        receive(i);
    }
    publisher32.say("go");
    for (std::size_t i = 0; i < count; ++i) {
        receive(i);
    }
    CHECK(right == 2 * count);
    CHECK(publisher32.read_line() == "published");
    CHECK(subscriber32.read_line() == "right " + std::to_string(count) + " missed 0");
    CHECK(publisher32.wait() == 0);
    CHECK(subscriber32.wait() == 0);
    CHECK(topic.subscribers() == 1); // the 32-bit subscriber left; it was never dropped as dead
}

TEST_CASE("a 32-bit process and a 64-bit one count exactly in one Shared<T>", "[posix_bitness]")
{
    const std::string name = test::unique_name("shared32");
    auto shared = filemap::Shared<shared_types::Counter>::create(name);
    constexpr int rounds = 300;
    test::Child peer = peer32({"shared-count", name, std::to_string(rounds)});
    REQUIRE(peer.read_line() == "counting");
    for (int i = 0; i < rounds; ++i) {
        auto guard = shared.lock();
        guard->count = guard->count + 1;
        guard->writer = 64;
    }
    CHECK(peer.read_line() == "counted");
    CHECK(peer.wait() == 0);
    CHECK(shared.load().count == 2 * rounds);
}

TEST_CASE("a Shared<T> a 32-bit process created is loaded, stored and watched across word sizes",
          "[posix_bitness]")
{
    const std::string name = test::unique_name("shared-made32");
    test::Child peer = peer32({"shared-create", name});
    REQUIRE(peer.read_line() == "created");
    auto shared = filemap::Shared<shared_types::Counter>::open(name);
    const shared_types::Counter first = shared.load();
    CHECK(first.count == 1000);
    CHECK(first.writer == 32);
    shared.store(shared_types::Counter{1001, 64, 0});
    CHECK(peer.read_line() == "changed 1001 by 64"); // woken in the 32-bit process
    peer.say("bye");
    CHECK(peer.wait() == 0);
}

TEST_CASE("a T whose layout differs between 32 and 64 bits is refused, naming why",
          "[posix_bitness]")
{
    const std::string hint = "long, size_t, pointers and the alignment of 64-bit members differ "
                             "between them; use fixed-width types and an explicit alignas)";
    // What the 32-bit peer says when it opens a `type` the 64-bit side created.
    const auto opened_by_peer32 = [](const std::string& name, const std::string& type) {
        test::Child opener = peer32({"shared-open", name, type});
        const std::string line = opener.read_line();
        opener.wait();
        return line;
    };
    const std::string with_long = test::unique_name("long64");
    auto made = filemap::Shared<shared_types::WithLong>::create(with_long);
    CHECK(opened_by_peer32(with_long, "WithLong") ==
          "error: filemap: open \"" + with_long +
              "\": Invalid argument: the object holds a 16-byte T, this program's T is 8 bytes "
              "(it was created by a 64-bit process, this one is 32-bit: " +
              hint);

    const std::string long32 = test::unique_name("long32");
    test::Child maker = peer32({"shared-make", long32, "WithLong"});
    REQUIRE(maker.read_line() == "created");
    CHECK(test::thrown_what([&] { (void)filemap::Shared<shared_types::WithLong>::open(long32); }) ==
          "filemap: open \"" + long32 +
              "\": Invalid argument: the object holds an 8-byte T, this program's T is 16 bytes "
              "(it was created by a 32-bit process, this one is 64-bit: " +
              hint);
    maker.say("bye");
    CHECK(maker.wait() == 0);

    // 16 bytes in both, but a 64-bit member is aligned to 4 in a 32-bit struct.
    const std::string unaligned = test::unique_name("unaligned64");
    auto plain = filemap::Shared<shared_types::Unaligned>::create(unaligned);
    CHECK(opened_by_peer32(unaligned, "Unaligned") ==
          "error: filemap: open \"" + unaligned +
              "\": Invalid argument: the object holds a T aligned to 8 bytes, this program's T is "
              "aligned to 4 (it was created by a 64-bit process, this one is 32-bit: " +
              hint);
}
