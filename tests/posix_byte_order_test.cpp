// tests/posix_byte_order_test.cpp - a big-endian program and this
// little-endian one meet at the same names: each refuses the other's
// objects, naming the byte order, instead of reading swapped integers. The
// peer is tests/bitness_peer.cpp built for s390x (64-bit, big-endian) and
// run under qemu-s390x; CMake registers this file only where both work
// (FILEMAP_TEST_BIG_ENDIAN).
#include "shared_types.hpp"
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <string>

namespace {

/// The big-endian peer in `role`; it first says how many bits it has.
test::Child big_endian_peer(const test::Args& args)
{
    return test::Child::foreign(FILEMAP_QEMU_S390X, FILEMAP_PEER_S390X, args, "bits 64");
}

/// What open says of an object a big-endian process made.
std::string from_big_endian(const std::string& name)
{
    return "filemap: open \"" + name +
           "\": Invalid argument: the object was created by a big-endian process, this one "
           "is little-endian";
}

} // namespace

TEST_CASE("a Shared<T> a big-endian process created is refused, naming its byte order",
          "[posix_byte_order]")
{
    const std::string name = test::unique_name("big-endian");
    test::Child peer = big_endian_peer({"shared-make", name, "Unaligned"});
    REQUIRE(peer.read_line() == "created");
    CHECK(test::thrown_what([&] { (void)filemap::Shared<shared_types::Unaligned>::open(name); }) ==
          from_big_endian(name));
    // Whatever kind this program expects there, the byte order is said first
    // only for its own kind: a Shared<T> is not a mutex in either order.
    CHECK(test::thrown_what([&] { (void)filemap::NamedMutex::open(name); }) ==
          "filemap: open \"" + name + "\": Invalid argument: the object is not a mutex");
    peer.say("bye");
    CHECK(peer.wait() == 0);
}

TEST_CASE("a big-endian process refuses a Shared<T> this one created", "[posix_byte_order]")
{
    const std::string name = test::unique_name("little-endian");
    auto shared = filemap::Shared<shared_types::Unaligned>::create(name);
    test::Child peer = big_endian_peer({"shared-open", name, "Unaligned"});
    CHECK(peer.read_line() ==
          "error: filemap: open \"" + name +
              "\": Invalid argument: the object was created by a little-endian process, this "
              "one is big-endian");
    peer.wait();
}

TEST_CASE("a channel a big-endian process created is refused, naming its byte order",
          "[posix_byte_order]")
{
    const std::string name = test::unique_name("big-endian-channel");
    test::Child peer = big_endian_peer({"create-and-send", name, "0"});
    REQUIRE(peer.read_line() == "created");
    CHECK(test::thrown_what([&] { (void)filemap::Channel::open(name); }) == from_big_endian(name));
    peer.say("go");
    CHECK(peer.read_line() == "sent");
    peer.say("bye");
    CHECK(peer.wait() == 0);
}
