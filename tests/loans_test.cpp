// tests/loans_test.cpp - Channel's loans and in-place reads across real processes:
// messages built where they are read, whole and in order; a sender killed
// holding a loan and a receiver killed inside receive_with wedge nobody.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <vector>

using filemap::Channel;
using namespace std::chrono_literals;

namespace {

/// Byte j of message i: a pattern that tells messages and offsets apart.
std::byte pattern(std::size_t i, std::size_t j)
{
    return static_cast<std::byte>((i * 31 + j * 7) & 0xFF);
}
/// The size of message i: every size from 0 to 1000, so records wrap at every offset.
std::size_t size_of(std::size_t i)
{
    return (i * 37) % 1001;
}

// Sends `count` messages built in place; every third commits less than it asked for.
const test::Role loan_sender("loan-sender", [](const test::Args& args) {
    Channel channel = Channel::open(args.at(0));
    const auto count = std::stoul(args.at(1));
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t size = size_of(i);
        filemap::Loan loan = channel.prepare(i % 3 == 0 ? size + 24 : size);
        for (std::size_t j = 0; j < size; ++j) {
            loan.data()[j] = pattern(i, j);
        }
        loan.commit(size);
    }
    return 0;
});

// Prepares a loan, fills it, says so, and waits to be killed.
const test::Role die_holding_loan("die-holding-loan", [](const test::Args& args) -> int {
    Channel channel = Channel::open(args.at(0));
    filemap::Loan loan = channel.prepare(16);
    std::memcpy(loan.data(), "never published!", 16);
    test::tell("lent");
    for (;;) {
        std::this_thread::sleep_for(1s);
    }
});

// Reads one message in place, says what it holds, and waits to be killed inside the read.
const test::Role die_reading("die-reading", [](const test::Args& args) -> int {
    Channel channel = Channel::open(args.at(0));
    channel.receive_with([](std::span<const std::byte> message) {
        test::tell("reading " +
                   std::string(reinterpret_cast<const char*>(message.data()), message.size()));
        for (;;) {
            std::this_thread::sleep_for(1s);
        }
    });
    return 1;
});

} // namespace

TEST_CASE("messages built in place and read in place cross processes whole and in order", "[loans]")
{
    const std::string name = test::unique_name("loans");
    Channel channel = Channel::create(name, 1024);
    constexpr std::size_t count = 3000;
    test::Child sender = test::Child::role("loan-sender", {name, std::to_string(count)});
    std::size_t wrong = 0;
    std::size_t misaligned = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const auto check = [&](std::span<const std::byte> message) {
            misaligned += reinterpret_cast<std::uintptr_t>(message.data()) % 16 != 0;
            bool whole = message.size() == size_of(i);
            for (std::size_t j = 0; whole && j < message.size(); ++j) {
                whole = message[j] == pattern(i, j);
            }
            wrong += !whole;
        };
        if (i % 2 == 0) {
            REQUIRE(channel.receive_with_for(60s, check));
        } else {
            const auto copy = channel.receive_for(60s); // copies read the same records
            REQUIRE(copy);
            check(*copy);
        }
    }
    CHECK(wrong == 0);
    CHECK(misaligned == 0);
    CHECK(sender.wait() == 0);
    CHECK_FALSE(channel.try_receive());
}

TEST_CASE("a sender killed holding a loan publishes nothing and wedges nobody", "[loans]")
{
    const std::string name = test::unique_name("killed-loan");
    Channel channel = Channel::create(name, 64);
    test::Child holder = test::Child::role("die-holding-loan", {name});
    REQUIRE(holder.read_line() == "lent");
    CHECK_FALSE(channel.try_send(std::as_bytes(std::span("while lent", 10))));
    holder.kill();
    // The next sender recovers the lock; the dead loan was never published.
    REQUIRE(channel.send_for(std::as_bytes(std::span("after", 5)), 10s));
    const auto message = channel.receive_for(10s);
    REQUIRE(message);
    CHECK(std::string(reinterpret_cast<const char*>(message->data()), message->size()) == "after");
    CHECK_FALSE(channel.try_receive());
}

TEST_CASE("a receiver killed inside receive_with leaves the message for the next", "[loans]")
{
    const std::string name = test::unique_name("killed-reader");
    Channel channel = Channel::create(name, 64);
    channel.send(std::string_view("first"));
    channel.send(std::string_view("second"));
    test::Child reader = test::Child::role("die-reading", {name});
    REQUIRE(reader.read_line() == "reading first");
    reader.kill();
    const auto again = channel.receive_for(10s);
    REQUIRE(again);
    CHECK(std::string(reinterpret_cast<const char*>(again->data()), again->size()) == "first");
    CHECK(channel.receive_string() == "second");
}

TEST_CASE("loans: abandoned, shortened, refused, and a receive_with that throws", "[loans]")
{
    Channel channel = Channel::create(test::unique_name("loan-rules"), 100);

    SECTION("a loan dropped without commit publishes nothing")
    {
        {
            filemap::Loan loan = channel.prepare(10);
            REQUIRE(loan);
            CHECK(loan.size() == 10);
            std::memcpy(loan.data(), "abandoned!", 10);
        }
        CHECK_FALSE(channel.try_receive());
        channel.send(std::string_view("sent"));
        CHECK(channel.receive_string() == "sent");
    }
    SECTION("commit publishes only what was used; more than lent is message_size, loan kept")
    {
        filemap::Loan loan = channel.prepare(50);
        std::memcpy(loan.data(), "used", 4);
        CHECK(test::thrown_code([&] { loan.commit(51); }) == std::errc::message_size);
        REQUIRE(loan);
        loan.commit(4);
        CHECK_FALSE(loan);
        CHECK(test::thrown_code([&] { loan.commit(); }) == std::errc::bad_file_descriptor);
        CHECK(channel.receive_string() == "used");
    }
    SECTION("a loan larger than the capacity is message_size; a full channel lends nothing now")
    {
        CHECK(test::thrown_code([&] { channel.prepare(101); }) == std::errc::message_size);
        std::size_t sent = 0;
        while (channel.try_send(std::as_bytes(std::span("0123456789abcdef", 16)))) {
            ++sent;
        }
        CHECK(sent >= 2);
        CHECK_FALSE(channel.try_prepare(16));
        CHECK_FALSE(channel.prepare_for(16, 20ms));
        CHECK(channel.try_receive());
        CHECK(channel.try_prepare(16));
    }
    SECTION("a receive_with that throws leaves the message where it was")
    {
        channel.send(std::string_view("kept"));
        struct Refused {};
        CHECK_THROWS_AS(channel.receive_with([](std::span<const std::byte>) { throw Refused{}; }),
                        Refused);
        std::string seen;
        CHECK(channel.try_receive_with([&](std::span<const std::byte> message) {
            seen.assign(reinterpret_cast<const char*>(message.data()), message.size());
        }));
        CHECK(seen == "kept");
        CHECK_FALSE(channel.try_receive_with([](std::span<const std::byte>) {}));
    }
    SECTION("a drained channel takes the largest message at any offset, without a receiver")
    {
        for (std::size_t offset = 0; offset < 300; offset += 16) {
            filemap::Loan loan = channel.prepare(offset % 100);
            loan.commit();
            CHECK(channel.try_receive());
            CHECK(channel.try_send(std::vector<std::byte>(100)));
            CHECK(channel.try_receive());
        }
    }
}
