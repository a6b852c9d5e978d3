// tests/named_mutex_test.cpp - NamedMutex across real processes: exact
// counting, recovery from an owner killed while holding it, timeouts.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

using filemap::FileMapping;
using filemap::NamedMutex;

namespace {

constexpr int rounds_per_child = 2000;

// Increments a shared counter under the mutex with a deliberately slow
// read-modify-write, so that any hole in the exclusion loses increments.
const test::Role count("count", [](const test::Args& args) {
    NamedMutex mutex = NamedMutex::open(args.at(0));
    FileMapping counter = FileMapping::open(args.at(1));
    for (int i = 0; i < rounds_per_child; ++i) {
        std::lock_guard<NamedMutex> guard(mutex);
        const auto value = counter.read_value<long>();
        if (i % 64 == 0) {
            std::this_thread::yield();
        }
        counter.write_value(value + 1);
    }
    return 0;
});

// Locks the mutex and holds it until told to go, or until killed.
const test::Role hold_lock("hold-lock", [](const test::Args& args) {
    NamedMutex mutex = NamedMutex::open(args.at(0));
    mutex.lock();
    test::tell("locked");
    test::hear();
    mutex.unlock();
    return 0;
});

} // namespace

TEST_CASE("NamedMutex is Lockable", "[named_mutex]")
{
    NamedMutex mutex = NamedMutex::create(test::unique_name("mutex"));
    {
        std::lock_guard<NamedMutex> guard(mutex);
    }
    {
        std::unique_lock<NamedMutex> lock(mutex, std::try_to_lock);
        CHECK(lock.owns_lock());
    }
    {
        std::scoped_lock lock(mutex);
    }
    CHECK(mutex.try_lock());
    mutex.unlock();
    CHECK_FALSE(mutex.previous_owner_died());
}

TEST_CASE("processes counting under the mutex lose no increment", "[named_mutex]")
{
    const std::string mutex_name = test::unique_name("count-mutex");
    const std::string counter_name = test::unique_name("counter");
    NamedMutex mutex = NamedMutex::create(mutex_name);
    FileMapping counter = FileMapping::create(counter_name, sizeof(long));
    std::vector<test::Child> children;
    for (int i = 0; i < 3; ++i) {
        children.push_back(test::Child::role("count", {mutex_name, counter_name}));
    }
    for (auto& child : children) {
        CHECK(child.wait() == 0);
    }
    CHECK(counter.read_value<long>() == 3 * rounds_per_child);
}

TEST_CASE("a mutex whose owner was killed is recovered by the next locker", "[named_mutex]")
{
    const std::string name = test::unique_name("orphan");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child child = test::Child::role("hold-lock", {name});
    REQUIRE(child.read_line() == "locked");
    CHECK_FALSE(mutex.try_lock());
    child.kill();
    child.wait();

    mutex.lock(); // does not hang
    CHECK(mutex.previous_owner_died());
    mutex.unlock();
    mutex.lock();
    CHECK_FALSE(mutex.previous_owner_died());
    mutex.unlock();
}

TEST_CASE("try_lock_for gives up after its timeout while another process holds it", "[named_mutex]")
{
    const std::string name = test::unique_name("busy");
    NamedMutex mutex = NamedMutex::create(name);
    test::Child child = test::Child::role("hold-lock", {name});
    REQUIRE(child.read_line() == "locked");
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(mutex.try_lock_for(std::chrono::milliseconds(100)));
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(90));
    child.say("go");
    CHECK(child.wait() == 0);
    CHECK(mutex.try_lock_for(std::chrono::seconds(5)));
    mutex.unlock();
}

TEST_CASE("NamedMutex names follow FileMapping's rules and errors", "[named_mutex]")
{
    const std::string name = test::unique_name("named");
    std::error_code ec;
    NamedMutex::open(name, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    NamedMutex::create("bad/name", ec);
    CHECK(ec == std::errc::invalid_argument);

    NamedMutex first = NamedMutex::open_or_create(name);
    NamedMutex::create(name, ec);
    CHECK(ec == std::errc::file_exists);
    NamedMutex second = NamedMutex::open_or_create(name);
    CHECK(second.is_open());
    CHECK(second.name() == name);
}

TEST_CASE("opening something that is not a NamedMutex is invalid_argument", "[named_mutex]")
{
    const std::string name = test::unique_name("not-a-mutex");
    FileMapping other = FileMapping::create(name, 4096);
    other.write("definitely not a mutex");
    std::error_code ec;
    CHECK_FALSE(NamedMutex::open(name, ec).is_open());
    CHECK(ec == std::errc::invalid_argument);
}
