// tests/channel_test.cpp - Channel across real processes: order, sizes,
// timeouts, many senders, and peers killed in the middle of traffic.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

using filemap::Channel;
using namespace std::chrono_literals;

namespace {

/// Message i of sender `who`: "who:i:" then a payload whose length varies
/// with i, so records wrap around the ring at every offset.
std::string message(int who, int i)
{
    std::string text = std::to_string(who) + ":" + std::to_string(i) + ":";
    text.append(static_cast<std::size_t>(i % 97), static_cast<char>('a' + i % 26));
    return text;
}

// Sends `count` messages as sender `who`.
const test::Role send_messages("send-messages", [](const test::Args& args) {
    Channel channel = Channel::open(args.at(0));
    const int who = std::stoi(args.at(1));
    const int count = std::stoi(args.at(2));
    for (int i = 0; i < count; ++i) {
        channel.send(message(who, i));
    }
    return 0;
});

// Receives forever, reporting each message, until killed.
const test::Role receive_forever("receive-forever", [](const test::Args& args) -> int {
    Channel channel = Channel::open(args.at(0));
    for (;;) {
        test::tell(channel.receive_string());
    }
});

/// The next message, waiting at most a minute: a sender that died early
/// fails the test with a message instead of hanging it.
std::string next_message(Channel& channel)
{
    auto message = channel.receive_for(60s);
    if (!message) {
        FAIL("no message within 60 s: did a sending child die?");
    }
    return {reinterpret_cast<const char*>(message->data()), message->size()};
}

} // namespace

TEST_CASE("ten thousand messages cross processes whole and in order", "[channel]")
{
    const std::string name = test::unique_name("order");
    Channel channel = Channel::create(name, 256);
    test::Child sender = test::Child::role("send-messages", {name, "7", "10000"});
    for (int i = 0; i < 10000; ++i) {
        const std::string got = next_message(channel);
        if (got != message(7, i)) {
            FAIL("message " << i << " was \"" << got << "\"");
        }
    }
    CHECK(sender.wait() == 0);
    CHECK_FALSE(channel.try_receive());
}

TEST_CASE("many senders: every message arrives once, each sender's in order", "[channel]")
{
    const std::string name = test::unique_name("many");
    Channel channel = Channel::create(name, 128);
    std::vector<test::Child> senders;
    for (int who = 0; who < 3; ++who) {
        senders.push_back(test::Child::role("send-messages", {name, std::to_string(who), "2000"}));
    }
    std::map<int, int> next;
    for (int n = 0; n < 6000; ++n) {
        const std::string got = next_message(channel);
        const int who = std::stoi(got);
        REQUIRE(got == message(who, next[who]));
        ++next[who];
    }
    for (auto& sender : senders) {
        CHECK(sender.wait() == 0);
    }
    CHECK(next == std::map<int, int>{{0, 2000}, {1, 2000}, {2, 2000}});
}

TEST_CASE("message_size: too big to send, or too big for the receive buffer", "[channel]")
{
    Channel channel = Channel::create(test::unique_name("sizes"), 16);
    CHECK(channel.capacity() == 16);
    std::vector<std::byte> big(17);
    CHECK(test::thrown_code([&] { channel.send(big); }) == std::errc::message_size);
    CHECK_FALSE(channel.try_receive()); // nothing was sent

    channel.send("0123456789abcdef"); // exactly the capacity
    std::array<std::byte, 8> small{};
    CHECK(test::thrown_code([&] { channel.receive(small); }) == std::errc::message_size);
    std::array<std::byte, 16> enough{};
    CHECK(channel.receive(enough) == 16); // the message was kept
    CHECK(std::string(reinterpret_cast<const char*>(enough.data()), 16) == "0123456789abcdef");
}

TEST_CASE("any message up to the capacity fits once the channel is drained", "[channel]")
{
    Channel channel = Channel::create(test::unique_name("drain"), 100);
    for (int round = 0; round < 50; ++round) {
        const std::string small(static_cast<std::size_t>(round % 13), 's');
        channel.send(small);
        CHECK(channel.receive_string() == small);
        const std::string full(100, static_cast<char>('A' + round % 26));
        CHECK(channel.try_send(std::as_bytes(std::span(full.data(), full.size()))));
        CHECK(channel.receive_string() == full);
    }
}

TEST_CASE("timeouts: an empty channel has nothing, a full one takes nothing", "[channel]")
{
    Channel channel = Channel::create(test::unique_name("timeouts"), 64);
    CHECK_FALSE(channel.try_receive());
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(channel.receive_for(50ms));
    CHECK(std::chrono::steady_clock::now() - start >= 45ms);

    const std::string fill(64, 'f');
    const auto bytes = std::as_bytes(std::span(fill.data(), fill.size()));
    CHECK(channel.try_send(bytes));
    CHECK(channel.try_send(bytes)); // the ring holds two of the largest messages
    CHECK_FALSE(channel.try_send(bytes));
    start = std::chrono::steady_clock::now();
    CHECK_FALSE(channel.send_for(bytes, 50ms));
    CHECK(std::chrono::steady_clock::now() - start >= 45ms);
    CHECK(channel.receive_for(1s).value().size() == 64);
    CHECK(channel.send_for(bytes, 1s));
}

TEST_CASE("a sender killed mid-traffic wedges nobody", "[channel]")
{
    const std::string name = test::unique_name("killed-sender");
    Channel channel = Channel::create(name, 256);
    test::Child sender = test::Child::role("send-messages", {name, "1", "1000000"});
    for (int i = 0; i < 100; ++i) {
        REQUIRE(next_message(channel) == message(1, i));
    }
    sender.kill(); // most likely blocked in send, holding the send lock
    sender.wait();
    int i = 100;
    while (auto got = channel.try_receive()) { // whole messages only, in order
        REQUIRE(std::string(reinterpret_cast<const char*>(got->data()), got->size()) ==
                message(1, i++));
    }
    CHECK(
        channel.send_for(std::as_bytes(std::span("after", 5)), 60s)); // the send lock was recovered
    CHECK(next_message(channel) == "after");
}

TEST_CASE("a receiver killed while waiting wedges nobody", "[channel]")
{
    const std::string name = test::unique_name("killed-receiver");
    Channel channel = Channel::create(name, 64);
    test::Child receiver = test::Child::role("receive-forever", {name});
    channel.send("first");
    REQUIRE(receiver.read_line() == "first");
    receiver.kill(); // asleep in receive, holding the receive lock
    receiver.wait();
    channel.send("second");
    CHECK(channel.receive_for(5s).has_value()); // the receive lock was recovered
}

TEST_CASE("channels refuse what they cannot honour", "[channel]")
{
    const std::string name = test::unique_name("refuse");
    std::error_code ec;
    Channel::create(name, 0, ec);
    CHECK(ec == std::errc::invalid_argument);
    Channel::open(name, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);

    Channel channel = Channel::create(name, 64);
    Channel::open_or_create(name, 4096, ec);
    CHECK(ec == std::errc::result_out_of_range);
    CHECK(Channel::open_or_create(name, 32).capacity() == 64);

    const std::string mutex_name = test::unique_name("a-mutex");
    filemap::NamedMutex mutex = filemap::NamedMutex::create(mutex_name);
    Channel::open(mutex_name, ec);
    CHECK(ec == std::errc::invalid_argument);
}
