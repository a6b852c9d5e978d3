// tests/shared_test.cpp - Shared<T> across real processes: constructed once
// among racing creators, exact counting under lock(), recovery from holders
// and writers killed at exact instructions, load() never torn under a
// writer storing in a loop, wait_for_change() waking and timing out, and
// every message open gives for a T that differs.
#include "shared_types.hpp"
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using filemap::Access;
using filemap::FileMapping;
using filemap::Shared;
using shared_types::Checked;
using shared_types::Counter;
using Clock = std::chrono::steady_clock;
namespace step = filemap::detail::step;

namespace {

constexpr int rounds_per_child = 1000;

/// A T whose constructor takes its time, so that racing creators overlap.
struct Slow {
    explicit Slow(std::uint32_t id) : creator(id)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Slow() = default;
    std::uint32_t creator = 0;
};

/// Counter's size and alignment, another version of its type tag.
struct Tagged {
    std::uint64_t a, b;
    static constexpr std::string_view type_tag = "filemap test Counter v2";
};

/// A T whose constructor throws.
struct Refuses {
    explicit Refuses(int) { throw std::runtime_error("no"); }
    int value;
};

// NAME ID: on "go", open_or_create NAME as Slow(ID); say whether it created
// it and who did.
const test::Role race("shared-race", [](const test::Args& args) {
    test::tell("ready");
    test::hear();
    auto shared = Shared<Slow>::open_or_create(args.at(0),
                                               static_cast<std::uint32_t>(std::stoul(args.at(1))));
    test::tell((shared.created() ? "created " : "opened ") + std::to_string(shared.load().creator));
    test::hear(); // keeps the object alive until every racer has opened it
    return 0;
});

// NAME: rounds_per_child increments of count under lock(), deliberately slow.
const test::Role count("shared-count", [](const test::Args& args) {
    auto shared = Shared<Counter>::open(args.at(0));
    for (int i = 0; i < rounds_per_child; ++i) {
        auto guard = shared.lock();
        const std::uint64_t seen = guard->count;
        if (i % 64 == 0) {
            std::this_thread::yield();
        }
        guard->count = seen + 1;
    }
    return 0;
});

// NAME: takes the lock, holds it until told to go, then lets go.
const test::Role hold("shared-hold", [](const test::Args& args) {
    auto shared = Shared<Counter>::open(args.at(0));
    {
        auto guard = shared.lock();
        test::tell("locked");
        test::hear();
    }
    test::tell("unlocked");
    return 0;
});

// NAME: takes the lock, half-updates the value, and dies holding it.
const test::Role die_holding("shared-die-holding", [](const test::Args& args) -> int {
    auto shared = Shared<Counter>::open(args.at(0));
    auto guard = shared.lock();
    guard->writer = 99; // the half of the update that happened
    test::tell("locked");
    test::die_abruptly();
});

// NAME N: dies inside store(checked(N)), the copy made, its version not published.
const test::Role die_storing("shared-die-storing", [](const test::Args& args) {
    auto shared = Shared<Checked>::open(args.at(0));
    test::die_at_step(step::snapshot_copied);
    shared.store(shared_types::checked(std::stoull(args.at(1))));
    test::tell("stored"); // never reached
    return 0;
});

// NAME: creates NAME and dies before publishing it.
const test::Role die_creating("shared-die-creating", [](const test::Args& args) {
    test::die_at_step(step::block_built);
    auto shared = Shared<Counter>::create(args.at(0), Counter{7, 0, 0});
    test::tell("created"); // never reached
    return 0;
});

// NAME MS: stores checked(1), checked(2), ... for MS milliseconds; says how many.
const test::Role store_loop("shared-store-loop", [](const test::Args& args) {
    auto shared = Shared<Checked>::open(args.at(0));
    test::tell("storing");
    const auto until = Clock::now() + std::chrono::milliseconds(std::stoi(args.at(1)));
    std::uint64_t n = 1;
    while (Clock::now() < until) {
        shared.store(shared_types::checked(++n));
    }
    test::tell(std::to_string(n));
    return 0;
});

// NAME ACCESS: waits up to 10 s for a change of the version it first saw;
// says "changed" and the new count, or "timed out".
const test::Role watch("shared-watch", [](const test::Args& args) {
    auto shared = Shared<Counter>::open(args.at(0), args.at(1) == "read_only" ? Access::read_only
                                                                              : Access::read_write);
    const std::uint64_t seen = shared.version();
    test::tell("watching");
    if (!shared.wait_for_change(seen, std::chrono::seconds(10))) {
        test::tell("timed out");
        return 0;
    }
    test::tell("changed " + std::to_string(shared.load().count));
    return 0;
});

} // namespace

TEST_CASE("Shared<T> constructs T from the creator's arguments; openers see it", "[shared]")
{
    const std::string name = test::unique_name("shared");
    auto shared = Shared<Counter>::create(name, Counter{41, 1, 2});
    CHECK(shared.created());
    CHECK(shared.is_open());
    CHECK(shared.name() == name);
    CHECK(shared.load().count == 41);
    const std::uint64_t first = shared.version();
    CHECK(first != 0);

    auto opened = Shared<Counter>::open(name);
    CHECK_FALSE(opened.created());
    CHECK(opened.load().count == 41);
    CHECK(opened.version() == first);

    auto again = Shared<Counter>::open_or_create(name, Counter{5, 0, 0});
    CHECK_FALSE(again.created());
    CHECK(again.load().count == 41); // an opener never constructs
    CHECK(test::thrown_code([&] { (void)Shared<Counter>::create(name); }) ==
          std::errc::file_exists);
}

TEST_CASE("Shared<T>: version moves with every store and every guard that changed the value",
          "[shared]")
{
    auto shared = Shared<Counter>::create(test::unique_name("shared-version"));
    const std::uint64_t v0 = shared.version();
    {
        auto guard = shared.lock();
        CHECK_FALSE(guard.previous_owner_died());
        (void)guard->count; // reads only
    }
    CHECK(shared.version() == v0);
    {
        auto guard = shared.lock();
        ++guard->count;
        (*guard).writer = 3;
    }
    CHECK(shared.version() == v0 + 1);
    CHECK(shared.load().count == 1);
    CHECK(shared.load().writer == 3);
    shared.store(shared.load()); // the same value: a store counts all the same
    CHECK(shared.version() == v0 + 2);
    shared.store(Counter{10, 4, 0});
    CHECK(shared.version() == v0 + 3);
    CHECK(shared.load().count == 10);
}

TEST_CASE("Shared<T>: the ec overloads, moves, close and lock twice", "[shared]")
{
    const std::string name = test::unique_name("shared-ec");
    std::error_code ec;
    auto missing = Shared<Counter>::open(name, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK_FALSE(missing.is_open());
    auto made = Shared<Counter>::open_or_create(name, filemap::Options{}, ec);
    REQUIRE_FALSE(ec);
    CHECK(made.created());
    auto twice = Shared<Counter>::create(name, ec);
    CHECK(ec == std::errc::file_exists);
    auto read_only = Shared<Counter>::open(name, Access::read_only, ec);
    REQUIRE_FALSE(ec);
    CHECK(read_only.load().count == 0);
    (void)Shared<Counter>::open(name, Access::copy_on_write, ec);
    CHECK(ec == std::errc::invalid_argument);

    Shared<Counter> moved = std::move(made);
    CHECK(moved.is_open());
    CHECK_FALSE(made.is_open()); // NOLINT(bugprone-use-after-move): moves leave the source empty
    CHECK(test::thrown_code([&] { (void)made.load(); }) == std::errc::bad_file_descriptor);
    CHECK(test::thrown_code([&] { (void)made.lock(); }) == std::errc::bad_file_descriptor);
    CHECK(made.version() == 0);
    {
        auto guard = moved.lock();
        CHECK(test::thrown_code([&] { (void)moved.lock(); }) ==
              std::errc::resource_deadlock_would_occur);
    }
    moved.close();
    moved.close();
    CHECK(test::thrown_code([&] { moved.store(Counter{}); }) == std::errc::bad_file_descriptor);
    CHECK(test::thrown_code([&] { (void)moved.wait_for_change(0, std::chrono::seconds(0)); }) ==
          std::errc::bad_file_descriptor);
}

TEST_CASE("Shared<T>: an exception from T's constructor propagates and leaves the name free",
          "[shared]")
{
    const std::string name = test::unique_name("shared-throws");
    CHECK_THROWS_AS(Shared<Refuses>::create(name, 1), std::runtime_error);
    CHECK(test::thrown_code([&] { (void)Shared<Refuses>::open(name); }) ==
          std::errc::no_such_file_or_directory);
    CHECK_THROWS_AS(Shared<Refuses>::open_or_create(name, 1), std::runtime_error);
}

TEST_CASE("Shared<T>: a read_only opener loads and watches, and may not write", "[shared]")
{
    const std::string name = test::unique_name("shared-ro");
    auto shared = Shared<Counter>::create(name, Counter{3, 0, 0});
    auto reader = Shared<Counter>::open(name, Access::read_only);
    CHECK(reader.load().count == 3);
    CHECK(test::thrown_code([&] { (void)reader.lock(); }) == std::errc::permission_denied);
    CHECK(test::thrown_code([&] { reader.store(Counter{}); }) == std::errc::permission_denied);
    const std::uint64_t seen = reader.version();
    CHECK_FALSE(reader.wait_for_change(seen, std::chrono::milliseconds(20)));
    shared.store(Counter{4, 0, 0});
    CHECK(reader.wait_for_change(seen, std::chrono::seconds(5)));
    CHECK(reader.load().count == 4);

    // A creator builds the object, so it maps it read-write whatever it asks,
    // and can lock it.
    filemap::Options read_only;
    read_only.access = Access::read_only;
    auto creator = Shared<Counter>::create(test::unique_name("shared-ro-create"), read_only);
    creator.store(Counter{5, 0, 0});
    CHECK(creator.lock()->count == 5);
}

TEST_CASE("Shared<T>: racing open_or_create calls in many processes construct once", "[shared]")
{
    const std::string name = test::unique_name("shared-race");
    std::vector<test::Child> racers;
    for (int i = 1; i <= 4; ++i) {
        racers.push_back(test::Child::role("shared-race", {name, std::to_string(i)}));
    }
    for (auto& racer : racers) {
        REQUIRE(racer.read_line() == "ready");
    }
    for (auto& racer : racers) {
        racer.say("go");
    }
    int creators = 0;
    std::string creator;
    std::vector<std::string> seen;
    for (int i = 0; i < 4; ++i) {
        const std::string line = racers[static_cast<std::size_t>(i)].read_line();
        const std::string who = line.substr(line.find(' ') + 1);
        seen.push_back(who);
        if (line.rfind("created ", 0) == 0) {
            ++creators;
            CHECK(who == std::to_string(i + 1)); // the creator's own arguments built it
            creator = who;
        } else {
            REQUIRE(line.rfind("opened ", 0) == 0);
        }
    }
    CHECK(creators == 1);
    for (const auto& who : seen) {
        CHECK(who == creator); // every racer sees the one construction
    }
    for (auto& racer : racers) {
        racer.say("done");
        CHECK(racer.wait() == 0);
    }
}

TEST_CASE("Shared<T>: a creator killed before publishing leaves the name free", "[shared]")
{
    const std::string name = test::unique_name("shared-unborn");
    test::Child creator = test::Child::role("shared-die-creating", {name});
    CHECK(creator.read_line() == std::string("dying at ") + step::block_built);
    creator.wait();
    CHECK(test::thrown_code([&] { (void)Shared<Counter>::open(name); }) ==
          std::errc::no_such_file_or_directory);
    auto shared = Shared<Counter>::open_or_create(name, Counter{8, 0, 0});
    CHECK(shared.created());
    CHECK(shared.load().count == 8);
}

TEST_CASE("Shared<T>: processes counting under lock() lose no increment", "[shared]")
{
    const std::string name = test::unique_name("shared-count");
    auto shared = Shared<Counter>::create(name);
    const std::uint64_t v0 = shared.version();
    std::vector<test::Child> children;
    for (int i = 0; i < 3; ++i) {
        children.push_back(test::Child::role("shared-count", {name}));
    }
    for (auto& child : children) {
        CHECK(child.wait() == 0);
    }
    CHECK(shared.load().count == 3 * rounds_per_child);
    CHECK(shared.version() == v0 + 3 * rounds_per_child);
}

TEST_CASE("Shared<T>: a holder killed inside lock() is reported to the next one", "[shared]")
{
    const std::string name = test::unique_name("shared-died");
    auto shared = Shared<Counter>::create(name, Counter{5, 1, 0});
    const std::uint64_t v0 = shared.version();
    test::Child holder = test::Child::role("shared-die-holding", {name});
    REQUIRE(holder.read_line() == "locked");
    holder.wait();
    CHECK(shared.load().writer == 1); // readers still see the last published value
    CHECK(shared.version() == v0);
    {
        auto guard = shared.lock();
        CHECK(guard.previous_owner_died());
        CHECK(guard->writer == 99); // the half-done update, there to repair
        guard->writer = 2;
    }
    CHECK(shared.load().writer == 2);
    CHECK(shared.version() == v0 + 1);
    auto guard = shared.lock();
    CHECK_FALSE(guard.previous_owner_died());
}

TEST_CASE("Shared<T>: a writer killed before publishing leaves load() the whole old value",
          "[shared]")
{
    const std::string name = test::unique_name("shared-torn");
    auto shared = Shared<Checked>::create(name, shared_types::checked(1));
    const std::uint64_t v0 = shared.version();
    test::Child writer = test::Child::role("shared-die-storing", {name, "2"});
    REQUIRE(writer.read_line() == std::string("dying at ") + step::snapshot_copied);
    writer.wait();
    const Checked seen = shared.load();
    CHECK(shared_types::whole(seen));
    CHECK(shared_types::number_of(seen) == 1);
    CHECK(shared.version() == v0);
    {
        // The store had finished with the work copy: the next holder finds
        // it there, and publishes it.
        auto guard = shared.lock();
        CHECK(guard.previous_owner_died());
        CHECK(shared_types::number_of(*guard) == 2);
    }
    CHECK(shared_types::number_of(shared.load()) == 2);
    CHECK(shared.version() == v0 + 1);
}

TEST_CASE("Shared<T>: load() is never torn while another process stores in a loop", "[shared]")
{
    const std::string name = test::unique_name("shared-tear");
    auto shared = Shared<Checked>::create(name, shared_types::checked(1));
    test::Child writer = test::Child::role("shared-store-loop", {name, "500"});
    REQUIRE(writer.read_line() == "storing");
    long loads = 0;
    long torn = 0;
    std::uint64_t last = 0;
    bool in_order = true;
    const auto until = Clock::now() + std::chrono::milliseconds(400);
    while (Clock::now() < until) {
        const Checked value = shared.load();
        ++loads;
        if (!shared_types::whole(value)) {
            ++torn;
        } else {
            in_order = in_order && shared_types::number_of(value) >= last;
            last = shared_types::number_of(value);
        }
    }
    const long stores = std::stol(writer.read_line());
    CHECK(writer.wait() == 0);
    CHECK(torn == 0);
    CHECK(in_order);
    CHECK(stores > 100); // the writer did store all along
    CHECK(loads > 100);
    CHECK(last > 1);
}

TEST_CASE("Shared<T>: wait_for_change() wakes watchers in other processes, and times out",
          "[shared]")
{
    const std::string name = test::unique_name("shared-watch");
    auto shared = Shared<Counter>::create(name);
    for (const char* access : {"read_write", "read_only"}) {
        INFO(access);
        test::Child watcher = test::Child::role("shared-watch", {name, access});
        REQUIRE(watcher.read_line() == "watching");
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // asleep in the kernel by now
        const auto start = Clock::now();
        shared.store(Counter{shared.load().count + 1, 0, 0});
        const std::string line = watcher.read_line();
        const auto waited = Clock::now() - start;
        CHECK(line == "changed " + std::to_string(shared.load().count));
        CHECK(waited < std::chrono::seconds(1)); // the bound, with room for a loaded machine
        CHECK(watcher.wait() == 0);
    }
    const std::uint64_t seen = shared.version();
    const auto start = Clock::now();
    CHECK_FALSE(shared.wait_for_change(seen, std::chrono::milliseconds(100)));
    CHECK(Clock::now() - start >= std::chrono::milliseconds(100));
    CHECK(shared.wait_for_change(seen - 1, std::chrono::hours(1))); // differs already
}

TEST_CASE("Shared<T>: open names the difference of a T that does not match", "[shared]")
{
    const std::string name = test::unique_name("shared-mismatch");
    auto shared = Shared<Counter>::create(name);
    CHECK(test::thrown_what([&] { (void)Shared<std::uint64_t>::open(name); }) ==
          "filemap: open \"" + name +
              "\": Invalid argument: the object holds a 16-byte T, this program's T is 8 bytes");
    struct alignas(16) Aligned16 {
        std::uint64_t a, b;
    };
    CHECK(test::thrown_what([&] { (void)Shared<Aligned16>::open(name); }) ==
          "filemap: open \"" + name +
              "\": Invalid argument: the object holds a T aligned to 8 bytes, this program's T "
              "is aligned to 16");
    CHECK(test::thrown_what([&] { (void)Shared<Tagged>::open(name); }) ==
          "filemap: open \"" + name +
              "\": Invalid argument: type tag \"filemap test Counter v2\" expected, found "
              "\"filemap test Counter v1\"");
    // Without a tag of its own, a program compares size and alignment only
    // (this test binary is 64-bit: Unaligned is aligned to 8 here).
    CHECK(Shared<shared_types::Unaligned>::open(name).load().count == 0);

    const std::string untagged = test::unique_name("shared-untagged");
    auto plain = Shared<shared_types::Unaligned>::create(untagged);
    CHECK(test::thrown_what([&] { (void)Shared<Counter>::open(untagged); }) ==
          "filemap: open \"" + untagged +
              "\": Invalid argument: type tag \"filemap test Counter v1\" expected, the object "
              "has none");
    CHECK(test::thrown_what([&] { (void)filemap::NamedMutex::open(name); }) ==
          "filemap: open \"" + name + "\": Invalid argument: the object is not a mutex");
    const std::string mutex = test::unique_name("shared-not");
    auto other = filemap::NamedMutex::create(mutex);
    CHECK(test::thrown_what([&] { (void)Shared<Counter>::open(mutex); }) ==
          "filemap: open \"" + mutex + "\": Invalid argument: the object is not a shared object");
}

TEST_CASE("Shared<T>: threads storing, locking and loading at once (what TSan checks)", "[shared]")
{
    // The cross-process tests show no tear; here the same protocol runs in
    // one process, where ThreadSanitizer sees every access: through one
    // handle, so that the threads' accesses are to the same addresses.
    const std::string name = test::unique_name("shared-threads");
    auto shared = Shared<Checked>::create(name, shared_types::checked(1));
    std::atomic<bool> stop{false};
    std::atomic<long> torn{0};
    std::atomic<long> loads{0};
    std::vector<std::thread> threads;
    threads.emplace_back([&] { // stores
        for (std::uint64_t n = 2; !stop.load(); ++n) {
            shared.store(shared_types::checked(n));
        }
    });
    threads.emplace_back([&] { // read-modify-writes under the guard
        while (!stop.load()) {
            auto guard = shared.lock();
            *guard = shared_types::checked(shared_types::number_of(*guard) + 1000);
        }
    });
    for (int i = 0; i < 2; ++i) {
        threads.emplace_back([&] { // loads and watches
            while (!stop.load()) {
                torn += shared_types::whole(shared.load()) ? 0 : 1;
                ++loads;
                (void)shared.wait_for_change(shared.version(), std::chrono::microseconds(50));
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(torn == 0);
    CHECK(loads > 10);
    CHECK(shared_types::whole(shared.load()));
}

TEST_CASE("Shared<T>: try_lock_for() bounds the wait for a live holder; a guard moves", "[shared]")
{
    const std::string name = test::unique_name("shared-try");
    auto shared = Shared<Counter>::create(name);
    const std::uint64_t v0 = shared.version();
    test::Child holder = test::Child::role("shared-hold", {name});
    REQUIRE(holder.read_line() == "locked");
    const auto start = Clock::now();
    CHECK_FALSE(shared.try_lock_for(std::chrono::milliseconds(100)).has_value());
    CHECK(Clock::now() - start >= std::chrono::milliseconds(100));
    holder.say("go");
    CHECK(holder.read_line() == "unlocked");
    CHECK(holder.wait() == 0);

    std::optional<Shared<Counter>::Guard> taken = shared.try_lock_for(std::chrono::seconds(10));
    REQUIRE(taken.has_value());
    CHECK_FALSE(taken->previous_owner_died());
    {
        Shared<Counter>::Guard moved = std::move(*taken);
        taken.reset(); // a moved-from guard publishes nothing and unlocks nothing
        moved->count = 7;
        CHECK(shared.version() == v0);
    }
    CHECK(shared.version() == v0 + 1); // published once, by the guard that held the lock
    CHECK(shared.load().count == 7);
    CHECK(shared.try_lock_for(std::chrono::seconds(0)).has_value()); // and it was released
}
