// tests/churn_test.cpp - several processes loop create / open / open_or_create
// / close on a few scoped names while the test kills and respawns them.
//
// Invariants: every handle that opens has the full size; the only errors
// are the documented ones (create: file_exists, open:
// no_such_file_or_directory, open_or_create: none); once every worker is
// gone, every name is gone. Workers count into a shared statistics block,
// so a killed worker's counts are kept. FILEMAP_CHURN_SECONDS sets the
// length of the run (default 5).
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using filemap::FileMapping;

namespace {

constexpr std::size_t object_size = 4096;
constexpr int name_count = 3;
constexpr int worker_count = 4;

enum Counter : std::size_t { ops, created, opened, exists_errors, absent_errors, bad, stop, count };

std::atomic_ref<std::uint64_t> counter(FileMapping& stats, Counter which)
{
    return std::atomic_ref<std::uint64_t>(stats.as_span<std::uint64_t>(0, count)[which]);
}

std::string object_name(const std::string& base, int index)
{
    return base + "-" + std::to_string(index);
}

/// Records a broken invariant: counted, and the first one said to the
/// parent (more could fill the pipe, which nobody reads until the end).
void broken(FileMapping& stats, const std::string& what)
{
    if (counter(stats, bad).fetch_add(1) == 0) {
        test::tell("bad: " + what);
    }
}

/// A handle a worker keeps for a while, with the name it opened.
struct Held {
    std::string name;
    FileMapping mapping;
};

// STATS BASE SLOT: says "up", then churns on BASE-0 .. BASE-2 until the stop counter is set.
// Now and then it checks that a name it holds still opens, to the same
// memory: its own 8 bytes at 128 + 8 * SLOT carry a token across.
const test::Role churn_worker("churn-worker", [](const test::Args& args) {
    FileMapping stats = FileMapping::open(args.at(0));
    test::tell("up");
    const std::size_t mine = 128 + 8 * static_cast<std::size_t>(std::stoi(args.at(2)));
    std::minstd_rand random(std::random_device{}());
    std::optional<Held> held[2];
    while (counter(stats, stop).load() == 0) {
        counter(stats, ops).fetch_add(1);
        auto& keep = held[random() % 2];
        if (keep && random() % 4 == 0) {
            std::error_code ec;
            const FileMapping again = FileMapping::open(keep->name, ec);
            const std::uint64_t token = random();
            keep->mapping.write_value(token, mine);
            if (ec) {
                broken(stats, keep->name + " is held, yet open says " + ec.message());
            } else if (again.read_value<std::uint64_t>(mine) != token) {
                broken(stats, keep->name + " names two objects at once");
            }
            continue;
        }
        const std::string name = object_name(args.at(1), static_cast<int>(random() % name_count));
        const auto operation = random() % 3;
        std::error_code ec;
        FileMapping mapping = operation == 0   ? FileMapping::create(name, object_size, ec)
                              : operation == 1 ? FileMapping::open(name, ec)
                                               : FileMapping::open_or_create(name, object_size, ec);
        if (ec == std::errc::file_exists && operation == 0) {
            counter(stats, exists_errors).fetch_add(1);
        } else if (ec == std::errc::no_such_file_or_directory && operation == 1) {
            counter(stats, absent_errors).fetch_add(1);
        } else if (ec) {
            broken(stats, name + ": " + ec.message());
        } else if (mapping.size() != test::opened_size(object_size)) {
            broken(stats, name + ": size " + std::to_string(mapping.size()));
        } else {
            counter(stats, operation == 0 ? created : opened).fetch_add(1);
            keep = Held{name, std::move(mapping)}; // closes what it replaces
        }
    }
    // A last pass over every name takes back what killed workers left stale
    // (nobody else may touch a name after its last holder was killed).
    for (int index = 0; index < name_count; ++index) {
        std::error_code ec;
        FileMapping::open(object_name(args.at(1), index), ec);
    }
    return 0;
});

int churn_seconds()
{
    const char* set = std::getenv("FILEMAP_CHURN_SECONDS");
    return set != nullptr ? std::max(1, std::atoi(set)) : 5;
}

} // namespace

TEST_CASE("processes killed in the middle of create, open and close never break the names",
          "[churn]")
{
    const std::string base = test::unique_name("churn");
    const std::string stats_name = test::unique_name("churn-stats");
    FileMapping stats = FileMapping::create(stats_name, count * sizeof(std::uint64_t));

    std::vector<std::optional<test::Child>> workers(worker_count);
    // A worker is killed only once it is up: a slow start (a sanitizer's,
    // a loaded machine's) must not turn the run into kills of processes
    // that never reached the names.
    const auto spawn = [&](std::size_t slot) {
        workers[slot].emplace(
            test::Child::role("churn-worker", {stats_name, base, std::to_string(slot)}));
        REQUIRE(workers[slot]->read_line() == "up");
    };
    for (std::size_t slot = 0; slot < workers.size(); ++slot) {
        spawn(slot);
    }
    std::minstd_rand random(12345);
    int kills = 0;
    const auto start = std::chrono::steady_clock::now();
    const auto until = start + std::chrono::seconds(churn_seconds());
    while (std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5 + random() % 20));
        const std::size_t slot = random() % worker_count;
        workers[slot]->kill();
        CHECK(workers[slot]->wait() == 128 + 9);
        ++kills;
        spawn(slot);
    }
    // The survivors run on a little, then stop on their own: their last
    // pass reclaims stale entries, and their closes end every name.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    counter(stats, stop).store(1);
    for (auto& worker : workers) {
        const std::string said = worker->read_line();
        CHECK(said == ""); // nothing broken to report
        CHECK(worker->wait() == 0);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const auto total = counter(stats, ops).load();
    std::printf("churn: %llu operations in %.1f s (%.0f/s) across %d processes, %d killed;"
                " %llu created, %llu opened, %llu file_exists, %llu no_such_file_or_directory,"
                " %llu broken\n",
                static_cast<unsigned long long>(total), seconds,
                static_cast<double>(total) / seconds, worker_count, kills,
                static_cast<unsigned long long>(counter(stats, created).load()),
                static_cast<unsigned long long>(counter(stats, opened).load()),
                static_cast<unsigned long long>(counter(stats, exists_errors).load()),
                static_cast<unsigned long long>(counter(stats, absent_errors).load()),
                static_cast<unsigned long long>(counter(stats, bad).load()));
    CHECK(counter(stats, bad).load() == 0);
    CHECK(counter(stats, created).load() > 0);
    CHECK(counter(stats, opened).load() > 0);
    CHECK(kills > 0);
    for (const auto& left : test::leftovers()) { // /dev/shm, before anyone reclaims
        CHECK(left.rfind(base + "-", 0) != 0);
    }
    for (int index = 0; index < name_count; ++index) {
        CHECK_FALSE(test::exists(object_name(base, index)));
    }
}
