// tests/topic_test.cpp - Topic and Subscriber across real processes: every
// subscriber gets every message in order, late subscribers start at the
// tail, drop_oldest counts exactly what it dropped, block waits for the
// slowest live subscriber and drops a dead one within the bound, and a peer
// that rewrites the shared state makes calls fail, never crash.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <vector>

using filemap::Overflow;
using filemap::Subscriber;
using filemap::Topic;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// Message i: its number, then a payload whose length varies with i.
std::string message(std::size_t i)
{
    std::string text = std::to_string(i) + ":";
    text.append(i % 113, static_cast<char>('a' + i % 26));
    return text;
}

std::span<const std::byte> bytes_of(const std::string& text)
{
    return std::as_bytes(std::span(text.data(), text.size()));
}

std::string text_of(std::span<const std::byte> bytes)
{
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Subscribes, says so, then receives `count` messages (in place or copied)
// and says how many were exactly as published, in order.
const test::Role subscribe_count("subscribe-count", [](const test::Args& args) {
    Subscriber subscriber = Subscriber::open(args.at(0));
    const auto count = std::stoul(args.at(1));
    const bool in_place = args.at(2) == "in-place";
    test::tell("subscribed");
    std::size_t right = 0;
    for (std::size_t i = 0; i < count; ++i) {
        std::string got;
        if (in_place) {
            subscriber.receive_with(
                [&](std::span<const std::byte> bytes) { got = text_of(bytes); });
        } else {
            got = subscriber.receive_string();
        }
        right += got == message(i);
    }
    test::tell("right " + std::to_string(right) + " missed " + std::to_string(subscriber.missed()));
    return 0;
});

// Subscribes, says so, waits to be told, then drains what is there and
// reports how many it got, how many it missed, and the first it got.
const test::Role subscribe_late_reader("subscribe-late-reader", [](const test::Args& args) {
    Subscriber subscriber = Subscriber::open(args.at(0));
    test::tell("subscribed");
    test::hear();
    std::size_t got = 0;
    std::string first;
    bool ordered = true;
    std::size_t previous = 0;
    while (auto bytes = subscriber.try_receive()) {
        const std::string text = text_of(*bytes);
        const std::size_t number = std::stoul(text);
        ordered = ordered && (got == 0 || number == previous + 1) && text == message(number);
        previous = number;
        if (got++ == 0) {
            first = text.substr(0, text.find(':'));
        }
    }
    test::tell("got " + std::to_string(got) + " missed " + std::to_string(subscriber.missed()) +
               " first " + first + (ordered ? " ordered" : " disordered"));
    return 0;
});

// Subscribes, says so, and never reads: a live, stalled subscriber.
const test::Role subscribe_stall("subscribe-stall", [](const test::Args& args) -> int {
    Subscriber subscriber = Subscriber::open(args.at(0));
    test::tell("subscribed");
    for (;;) {
        std::this_thread::sleep_for(1s);
    }
});

// Publishes `count` messages built in place.
const test::Role publish_loans("publish-loans", [](const test::Args& args) {
    Topic topic = Topic::open(args.at(0));
    const auto count = std::stoul(args.at(1));
    for (std::size_t i = 0; i < count; ++i) {
        const std::string text = message(i);
        filemap::Loan loan = topic.prepare(text.size() + 8);
        std::memcpy(loan.data(), text.data(), text.size());
        loan.commit(text.size());
    }
    return 0;
});

// Takes a loan (and with it the publish lock), says so, and holds it until killed.
const test::Role hold_loan("hold-loan", [](const test::Args& args) -> int {
    Topic topic = Topic::open(args.at(0));
    filemap::Loan loan = topic.prepare(8);
    test::tell("lent");
    for (;;) {
        std::this_thread::sleep_for(1s);
    }
});

// Writes `value` (8 bytes) at byte `offset` of the named object, as a peer with write access may.
const test::Role scribble("scribble", [](const test::Args& args) {
    filemap::FileMapping mapping = filemap::FileMapping::open(args.at(0));
    const std::uint64_t value = std::stoull(args.at(2));
    mapping.write(std::span(&value, 1), static_cast<std::size_t>(std::stoull(args.at(1))));
    return 0;
});

} // namespace

TEST_CASE("every subscriber receives every message, whole and in order", "[topic]")
{
    // As many subscribers as CPUs (3 to 8): with the publisher they outnumber
    // the CPUs, so they wait yielding (below 9 CPUs), as a crowd of
    // subscribers does.
    const std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t crowd = std::clamp<std::size_t>(cpus, 3, 8);
    CHECK(filemap::detail::spin_for(1) == filemap::detail::Spin::busy);
    CHECK(filemap::detail::spin_for(cpus) == filemap::detail::Spin::busy);
    CHECK(filemap::detail::spin_for(cpus + 1) == filemap::detail::Spin::yielding);
    for (const auto policy : {Overflow::block}) {
        const std::string name = test::unique_name("fan-out");
        Topic topic = Topic::create(name, 256, policy);
        constexpr std::size_t count = 5000;
        std::vector<test::Child> subscribers;
        for (std::size_t i = 0; i < crowd; ++i) {
            subscribers.push_back(test::Child::role(
                "subscribe-count", {name, std::to_string(count), i % 2 ? "copied" : "in-place"}));
            REQUIRE(subscribers.back().read_line() == "subscribed");
        }
        CHECK(topic.subscribers() == crowd);
        for (std::size_t i = 0; i < count; ++i) {
            REQUIRE(topic.publish_for(bytes_of(message(i)), 60s));
        }
        for (test::Child& subscriber : subscribers) {
            CHECK(subscriber.read_line() == "right " + std::to_string(count) + " missed 0");
            CHECK(subscriber.wait() == 0);
        }
    }
}

TEST_CASE("messages built in place reach every subscriber in place", "[topic]")
{
    const std::string name = test::unique_name("loans");
    Topic topic = Topic::create(name, 512, Overflow::block);
    constexpr std::size_t count = 3000;
    test::Child a = test::Child::role("subscribe-count", {name, std::to_string(count), "in-place"});
    test::Child b = test::Child::role("subscribe-count", {name, std::to_string(count), "copied"});
    REQUIRE(a.read_line() == "subscribed");
    REQUIRE(b.read_line() == "subscribed");
    test::Child publisher = test::Child::role("publish-loans", {name, std::to_string(count)});
    CHECK(a.read_line() == "right " + std::to_string(count) + " missed 0");
    CHECK(b.read_line() == "right " + std::to_string(count) + " missed 0");
    CHECK(publisher.wait() == 0);
}

TEST_CASE("a late subscriber receives what is published after it subscribed", "[topic]")
{
    const std::string name = test::unique_name("late");
    Topic topic = Topic::create(name, 256, Overflow::drop_oldest);
    for (std::size_t i = 0; i < 3; ++i) {
        topic.publish(message(i));
    }
    test::Child late = test::Child::role("subscribe-late-reader", {name});
    REQUIRE(late.read_line() == "subscribed");
    for (std::size_t i = 3; i < 5; ++i) {
        topic.publish(message(i));
    }
    late.say("go");
    CHECK(late.read_line() == "got 2 missed 0 first 3 ordered");
    CHECK(late.wait() == 0);
}

TEST_CASE("drop_oldest: a slow subscriber keeps the newest messages and counts the rest", "[topic]")
{
    const std::string name = test::unique_name("drop");
    Topic topic = Topic::create(name, 128, Overflow::drop_oldest);
    test::Child slow = test::Child::role("subscribe-late-reader", {name});
    REQUIRE(slow.read_line() == "subscribed");
    constexpr std::size_t count = 1000;
    for (std::size_t i = 0; i < count; ++i) {
        REQUIRE(topic.try_publish(bytes_of(message(i)))); // never waits
    }
    slow.say("go");
    const std::string report = slow.read_line();
    // "got G missed M first F ordered": G + M == count, and what it got is the newest.
    std::size_t got = 0;
    std::size_t missed = 0;
    std::size_t first = 0;
    char order[16] = {};
    REQUIRE(std::sscanf(report.c_str(), "got %zu missed %zu first %zu %15s", &got, &missed, &first,
                        order) == 4);
    INFO(report);
    CHECK(got >= 1);
    CHECK(got + missed == count);
    CHECK(first == missed);
    CHECK(std::string(order) == "ordered");
    CHECK(slow.wait() == 0);
}

TEST_CASE("block: a live stalled subscriber holds publishers; a dead one is dropped within the "
          "bound",
          "[topic]")
{
    const std::string name = test::unique_name("stall");
    Topic topic = Topic::create(name, 64, Overflow::block);
    test::Child stalled = test::Child::role("subscribe-stall", {name});
    REQUIRE(stalled.read_line() == "subscribed");
    std::size_t published = 0;
    while (topic.try_publish(std::as_bytes(std::span("0123456789", 10)))) {
        ++published;
    }
    CHECK(published >= 2);
    // Alive: waited for, however long (here 300 ms, well past the liveness checks).
    CHECK_FALSE(topic.publish_for(std::as_bytes(std::span("more", 4)), 300ms));
    CHECK(topic.subscribers() == 1);
    stalled.kill(); // not reaped yet: a zombie counts as dead too
    const auto start = Clock::now();
    REQUIRE(topic.publish_for(std::as_bytes(std::span("after", 5)), 10s));
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    INFO("the dead subscriber was dropped after " << waited.count() << " ms");
    CHECK(waited < 1s); // peer_check_interval (20 ms), plus the kernel's time to end it
    CHECK(topic.subscribers() == 0);
}

TEST_CASE("subscribing waits a bounded time for a publish lock held by a peer", "[topic]")
{
    const std::string name = test::unique_name("held");
    Topic topic = Topic::create(name, 64, Overflow::block);
    test::Child holder = test::Child::role("hold-loan", {name});
    REQUIRE(holder.read_line() == "lent");
    const auto start = Clock::now();
    std::error_code ec;
    Subscriber late = Subscriber::open(name, ec);
    const auto waited = Clock::now() - start;
    CHECK(ec == std::errc::timed_out);
    CHECK_FALSE(late.is_open());
    CHECK(waited >= 4s); // build_wait, 5 s
    CHECK(waited < 15s); // and no longer
    holder.kill();
    // The dead holder's lock is taken over; its loan was never published.
    Subscriber after = Subscriber::open(name);
    CHECK(topic.publish_for(std::as_bytes(std::span("after", 5)), 10s));
    CHECK(after.receive_string() == "after");
}

TEST_CASE("topics: sizes, policies, subscriber slots and closed objects", "[topic]")
{
    const std::string name = test::unique_name("rules");
    std::error_code ec;
    Topic::create(name, 0, Overflow::block, ec);
    CHECK(ec == std::errc::invalid_argument);
    Topic::create(name, 64, static_cast<Overflow>(7), ec);
    CHECK(ec == std::errc::invalid_argument);
    Subscriber::open(name, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);

    Topic topic = Topic::create(name, 64, Overflow::drop_oldest);
    CHECK(topic.capacity() == 64);
    CHECK(topic.overflow() == Overflow::drop_oldest);
    Topic::open_or_create(name, 64, Overflow::block, ec);
    CHECK(ec == std::errc::invalid_argument);
    Topic::open_or_create(name, 65, Overflow::drop_oldest, ec);
    CHECK(ec == std::errc::result_out_of_range);
    CHECK(Topic::open_or_create(name, 32, Overflow::drop_oldest).capacity() == 64);
    CHECK(test::thrown_code([&] { topic.publish(std::string(65, 'x')); }) ==
          std::errc::message_size);

    std::vector<Subscriber> all;
    for (std::size_t i = 0; i < Topic::max_subscribers; ++i) {
        all.push_back(Subscriber::open(name));
    }
    Subscriber::open(name, ec);
    CHECK(ec == std::errc::no_buffer_space);
    all.pop_back(); // unsubscribes: its slot is free again
    CHECK(Subscriber::open(name).is_open());

    Subscriber moved = std::move(all.front());
    CHECK_FALSE(all.front().is_open());
    CHECK(test::thrown_code([&] { all.front().try_receive(); }) == std::errc::bad_file_descriptor);
    topic.close();
    CHECK(test::thrown_code([&] { topic.publish(std::string_view("x")); }) ==
          std::errc::bad_file_descriptor);
    CHECK(topic.subscribers() == 0);
}

TEST_CASE("a peer that rewrites a topic's shared state makes calls fail, never crash", "[topic]")
{
    const std::string name = test::unique_name("vandal");
    Topic topic = Topic::create(name, 64, Overflow::block);
    Subscriber subscriber = Subscriber::open(name);
    topic.publish(std::string_view("before"));
    CHECK(subscriber.receive_string() == "before");
    const auto vandal = [&](std::size_t offset, std::uint64_t value) {
        test::Child peer =
            test::Child::role("scribble", {name, std::to_string(offset), std::to_string(value)});
        REQUIRE(peer.wait() == 0);
    };
    SECTION("a subscriber's head far from the tail: publish is corrupt")
    {
        vandal(192 + 24, 1ULL << 60); // members[0].head
        CHECK(test::thrown_code([&] { topic.publish(std::string_view("x")); }) ==
              std::errc::invalid_argument);
    }
    SECTION("a tail far ahead: the subscriber's receive is corrupt, never a read outside")
    {
        vandal(64, 1ULL << 40); // tail
        CHECK(test::thrown_code([&] { subscriber.try_receive(); }) == std::errc::invalid_argument);
    }
    SECTION("a record length beyond the capacity: corrupt record")
    {
        topic.publish(std::string_view("next"));
        const std::size_t ring = 192 + 64 * Topic::max_subscribers;
        vandal(ring + 32, 0xFFFFFFF0ULL); // the length of the record after "before" (32 bytes)
        CHECK(test::thrown_code([&] { subscriber.try_receive(); }) == std::errc::invalid_argument);
    }
    SECTION("the subscription's slot freed by a peer: the subscriber is told")
    {
        vandal(192, 0); // members[0].state
        CHECK(test::thrown_code([&] { subscriber.try_receive(); }) == std::errc::invalid_argument);
        CHECK(topic.try_publish(std::as_bytes(std::span("free", 4))));
    }
}
