// tests/dying_peers_test.cpp - a peer killed between two instructions strands
// nobody: a sender dead after publishing but before waking, a receiver dead
// after freeing room, a lock holder dead at any point of lock and unlock. Each
// death is placed exactly, at a failure-injection step (detail/steps.hpp), and
// the survivor must go on within the documented bound (peer_check_interval).
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if !defined(_WIN32)
#include <cerrno>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using filemap::Channel;
using filemap::NamedMutex;
using Clock = std::chrono::steady_clock;
namespace step = filemap::detail::step;

namespace {

// What a survivor may wait for a dead peer: the documented interval, with
// room for a loaded machine. Without the bound the wait would be endless.
constexpr auto bound = std::chrono::milliseconds(1000);
constexpr auto patience = std::chrono::seconds(10);

/// How long since `start`, in milliseconds.
long long since(Clock::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// CHANNEL: sends one message, dying once it is published. Says "ready" first and
// waits 200 ms, so that the parent is asleep in the kernel by then.
const test::Role send_and_die("send-and-die", [](const test::Args& args) {
    Channel channel = Channel::open(args.at(0));
    test::tell("ready");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    test::die_at_step(step::send_published);
    channel.send(std::string_view("sent by the dead"));
    test::tell("survived");
    return 0;
});

// CHANNEL: receives one message, dying once it freed the room.
const test::Role receive_and_die("receive-and-die", [](const test::Args& args) {
    Channel channel = Channel::open(args.at(0));
    test::tell("ready");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    test::die_at_step(step::receive_freed);
    channel.receive();
    test::tell("survived");
    return 0;
});

// MUTEX: locks, says "locked", then dies (without unlocking).
const test::Role lock_and_die("lock-and-die", [](const test::Args& args) -> int {
    NamedMutex mutex = NamedMutex::open(args.at(0));
    mutex.lock();
    test::tell("locked");
    test::die_abruptly();
});

// MUTEX STEP: locks, dying at STEP of lock ("taken") or unlock ("released").
const test::Role die_in_lock("die-in-lock", [](const test::Args& args) {
    NamedMutex mutex = NamedMutex::open(args.at(0));
    if (args.at(1) == "taken") {
        test::die_at_step(step::lock_taken);
        mutex.lock();
    } else {
        mutex.lock();
        test::tell("locked");
        test::hear(); // the parent is asleep waiting when this returns
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        test::die_at_step(step::unlock_released);
        mutex.unlock();
    }
    test::tell("survived");
    return 0;
});

// MUTEX MS: holds the lock for MS milliseconds, alive all along, then unlocks.
const test::Role hold_for("hold-for", [](const test::Args& args) {
    NamedMutex mutex = NamedMutex::open(args.at(0));
    mutex.lock();
    test::tell("locked");
    std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(args.at(1))));
    mutex.unlock();
    test::tell("unlocked");
    return 0;
});

} // namespace

TEST_CASE("a sender killed between publishing and waking: the sleeping receiver still gets "
          "the message",
          "[dying_peers]")
{
    const std::string name = test::unique_name("lost-wake");
    Channel channel = Channel::create(name, 64);
    test::Child sender = test::Child::role("send-and-die", {name});
    REQUIRE(sender.read_line() == "ready");
    const auto start = Clock::now();
    const auto message = channel.receive_for(patience); // asleep before the send
    const long long waited = since(start);
    REQUIRE(message);
    CHECK(std::string(reinterpret_cast<const char*>(message->data()), message->size()) ==
          "sent by the dead");
    CHECK(sender.read_line() == "dying at " + std::string(step::send_published));
    CHECK(sender.wait() != 0);
    INFO("received " << waited << " ms after starting to wait (the sender waited 200 ms)");
    CHECK(waited < 200 + bound.count());
}

TEST_CASE("a receiver killed between freeing room and waking: the blocked sender still sends",
          "[dying_peers]")
{
    const std::string name = test::unique_name("lost-room");
    Channel channel = Channel::create(name, 64);
    const std::vector<std::byte> filler(64, std::byte{'f'});
    while (channel.try_send(filler)) {
    }
    test::Child receiver = test::Child::role("receive-and-die", {name});
    REQUIRE(receiver.read_line() == "ready");
    const auto start = Clock::now();
    const bool sent = channel.send_for(filler, patience);
    const long long waited = since(start);
    CHECK(sent);
    CHECK(receiver.read_line() == "dying at " + std::string(step::receive_freed));
    CHECK(receiver.wait() != 0);
    INFO("sent " << waited << " ms after starting to wait (the receiver waited 200 ms)");
    CHECK(waited < 200 + bound.count());
}

TEST_CASE("a lock holder killed outright: the waiter takes over, told the owner died",
          "[dying_peers]")
{
    const std::string name = test::unique_name("killed-holder");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child holder = test::Child::role("lock-and-die", {name});
    REQUIRE(holder.read_line() == "locked");
    const auto start = Clock::now();
    REQUIRE(mutex.try_lock_for(patience));
    const long long waited = since(start);
    CHECK(mutex.previous_owner_died());
    mutex.unlock();
    CHECK(holder.wait() != 0);
    INFO("recovered in " << waited << " ms");
    CHECK(waited < bound.count());
}

TEST_CASE("a live holder is waited for, however long, never taken for dead", "[dying_peers]")
{
    const std::string name = test::unique_name("live-holder");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child holder = test::Child::role("hold-for", {name, "400"});
    REQUIRE(holder.read_line() == "locked");
    // Several check intervals pass while it holds the lock.
    CHECK_FALSE(mutex.try_lock_for(std::chrono::milliseconds(150)));
    REQUIRE(mutex.try_lock_for(patience));
    CHECK_FALSE(mutex.previous_owner_died());
    CHECK(holder.read_line() == "unlocked");
    mutex.unlock();
    CHECK(holder.wait() == 0);
}

TEST_CASE("a thread that exits holding the lock: another thread takes over", "[dying_peers]")
{
    NamedMutex mutex = NamedMutex::create(test::unique_name("thread-exit"));
    std::thread([&] { mutex.lock(); }).join(); // exits without unlocking
    REQUIRE(mutex.try_lock_for(patience));
    CHECK(mutex.previous_owner_died());
    mutex.unlock();
}

#if !defined(_WIN32)
// Windows keeps kernel mutexes, which have no such steps: the kernel owns them.

namespace {

// MUTEX MS: as a container would, in new PID and mount namespaces with a
// /proc of its own, locks MUTEX and holds it MS milliseconds. Its thread ids
// and start times are its namespace's: read in ours they name other threads.
const test::Role hold_in_container("hold-in-container", [](const test::Args& args) -> int {
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        test::tell(std::string("no namespaces: ") + std::strerror(errno));
        return 1;
    }
    const pid_t child = ::fork(); // pid 1 of the new namespace
    if (child == 0) {
        if (::mount("proc", "/proc", "proc", 0, nullptr) != 0) {
            test::tell(std::string("no /proc of its own: ") + std::strerror(errno));
            std::_Exit(1);
        }
        std::thread([&] { // a thread: its id is not 1, which every namespace has
            NamedMutex mutex = NamedMutex::open(args.at(0));
            mutex.lock();
            test::tell("locked");
            std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(args.at(1))));
            mutex.unlock();
            test::tell("unlocked");
        })
            .join();
        std::_Exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    // Not a return: this process can no longer fork (its namespace's init
    // is gone), which LeakSanitizer's exit-time check would need.
    std::fflush(stdout);
    std::_Exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
});

} // namespace

TEST_CASE("a holder in another PID namespace (a container) is waited for, never judged dead",
          "[dying_peers]")
{
    const std::string name = test::unique_name("container");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child holder = test::Child::role("hold-in-container", {name, "300"});
    REQUIRE(holder.read_line() == "locked");
    // Several check intervals: its id and start time would look like a reused id here.
    CHECK_FALSE(mutex.try_lock_for(std::chrono::milliseconds(150)));
    REQUIRE(mutex.try_lock_for(patience));
    CHECK_FALSE(mutex.previous_owner_died());
    mutex.unlock();
    CHECK(holder.read_line() == "unlocked");
    CHECK(holder.wait() == 0);
}

TEST_CASE("a holder killed after taking the word, before recording itself, is recovered",
          "[dying_peers]")
{
    const std::string name = test::unique_name("half-taken");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child holder = test::Child::role("die-in-lock", {name, "taken"});
    CHECK(holder.read_line() == "dying at " + std::string(step::lock_taken));
    CHECK(holder.wait() != 0);
    const auto start = Clock::now();
    REQUIRE(mutex.try_lock_for(patience));
    CHECK(mutex.previous_owner_died());
    mutex.unlock();
    CHECK(since(start) < bound.count());
}

TEST_CASE("an unlocker killed before waking the sleeper: the sleeper still gets the lock",
          "[dying_peers]")
{
    const std::string name = test::unique_name("lost-unlock");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child holder = test::Child::role("die-in-lock", {name, "released"});
    REQUIRE(holder.read_line() == "locked");
    holder.say("go");
    const auto start = Clock::now();
    REQUIRE(mutex.try_lock_for(patience)); // asleep when the holder releases and dies
    const long long waited = since(start);
    CHECK_FALSE(mutex.previous_owner_died()); // it did release the lock
    mutex.unlock();
    CHECK(holder.read_line() == "dying at " + std::string(step::unlock_released));
    CHECK(holder.wait() != 0);
    INFO("locked " << waited << " ms after starting to wait (the holder waited 200 ms)");
    CHECK(waited < 200 + bound.count());
}

TEST_CASE("a holder killed and not yet reaped (a zombie) counts as dead", "[dying_peers]")
{
    const std::string name = test::unique_name("zombie");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child holder = test::Child::role("hold-lock", {name});
    REQUIRE(holder.read_line() == "locked");
    holder.kill(); // not waited for: its process entry stays, a zombie
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(mutex.try_lock_for(patience));
    CHECK(mutex.previous_owner_died());
    mutex.unlock();
    CHECK(holder.wait() != 0);
}
#endif
