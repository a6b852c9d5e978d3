// tests/posix_crash_test.cpp - a process killed between any two system calls
// of create, open, open_or_create or close leaves nothing that blocks or
// misleads the next user.
//
// A child runs one operation with the failure-injection hook of
// detail/steps.hpp armed, and SIGKILLs itself at step k (k = 1, 2, ... until
// the operation finishes without reaching k). After each death the parent
// acts as the next user and checks what it finds.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

using filemap::FileMapping;
using filemap::Lifetime;
using filemap::Options;
namespace step = filemap::detail::step;

namespace {

constexpr std::size_t size = 4096;
constexpr int killed = 128 + SIGKILL;

int steps_seen = 0;
int die_at = 0;
bool pause_first = false; // wait for a line from the parent before dying

void count_step(const char* step)
{
    if (++steps_seen == die_at) {
        test::tell(std::string("dying at ") + step);
        if (pause_first) {
            test::hear();
        }
        std::raise(SIGKILL);
    }
}

Options lifetime(const std::string& which)
{
    Options options;
    options.lifetime = which == "persistent" ? Lifetime::persistent : Lifetime::scoped;
    return options;
}

// ACTION LIFETIME NAME K [pause]: runs ACTION with the hook armed, dying at
// step K (after a line from the parent, with "pause").
// An open of a stale entry ends in no_such_file_or_directory: that is fine.
const test::Role die_at_step("die-at-step", [](const test::Args& args) {
    const std::string& action = args.at(0);
    const Options options = lifetime(args.at(1));
    const std::string& name = args.at(2);
    die_at = std::stoi(args.at(3));
    pause_first = args.size() > 4;
    FileMapping mapping;
    if (action == "close") {
        mapping = FileMapping::open_or_create(name, size, options);
    }
    filemap::detail::step_hook = count_step;
    std::error_code ec;
    if (action == "create") {
        mapping = FileMapping::create(name, size, options, ec);
    } else if (action == "open_or_create") {
        mapping = FileMapping::open_or_create(name, size, options, ec);
    } else if (action == "open") {
        mapping = FileMapping::open(name, ec);
    } else if (action == "create_mutex") {
        filemap::NamedMutex::create(name, options, ec);
    } else {
        mapping.close();
    }
    filemap::detail::step_hook = nullptr;
    if (ec && ec != std::errc::no_such_file_or_directory) {
        test::tell(ec.message());
    }
    test::tell("finished");
    return 0;
});

// Holds a scoped object until killed: what a crashed last holder leaves.
const test::Role hold_until_killed("hold-until-killed", [](const test::Args& args) {
    FileMapping mapping = FileMapping::create(args.at(0), size);
    test::tell("holding");
    test::hear();
    return 0;
});

void leave_stale(const std::string& name)
{
    test::Child holder = test::Child::role("hold-until-killed", {name});
    REQUIRE(holder.read_line() == "holding");
    holder.kill();
    REQUIRE(holder.wait() == killed);
}

/// What the parent has in hand while the child runs.
enum class Setup { nothing, we_hold_it, stale_entry, persistent_made };

struct Run {
    int deaths = 0;
    std::set<std::string> steps;
    std::vector<std::string> in_order;
};

/// Kills `action` at every step in turn; after each death calls `check`.
template <class Check>
Run kill_at_every_step(const std::string& action, const std::string& kind, Setup setup, Check check)
{
    Run run;
    for (int k = 1; k < 50; ++k) {
        const std::string name = test::unique_name("crash");
        FileMapping ours;
        if (setup == Setup::we_hold_it) {
            ours = FileMapping::create(name, size, lifetime(kind));
            ours.write("ours");
        } else if (setup == Setup::persistent_made) {
            FileMapping::create(name, size, lifetime("persistent")).write("ours");
        } else if (setup == Setup::stale_entry) {
            leave_stale(name);
        }
        test::Child child =
            test::Child::role("die-at-step", {action, kind, name, std::to_string(k)});
        const std::string said = child.read_line();
        const int status = child.wait();
        INFO(action << " " << kind << ", step " << k << ": " << said);
        if (said == "finished") {
            REQUIRE(status == 0);
        } else {
            REQUIRE(said.rfind("dying at ", 0) == 0);
            REQUIRE(status == killed);
            ++run.deaths;
            run.steps.insert(said.substr(9));
            run.in_order.push_back(said.substr(9));
        }
        check(name, ours);
        if (ours.is_open()) {
            ours.close();
        }
        if (kind == "persistent") {
            FileMapping::remove(name);
        }
        CHECK_FALSE(test::exists(name));
        if (said == "finished") {
            std::printf("%s (%s): killed at %d steps, the next user was fine each time\n",
                        action.c_str(), kind.c_str(), run.deaths);
            return run;
        }
    }
    FAIL("the operation never finished");
    return run;
}

/// The next user finds the name free: open says absent, create succeeds.
void name_is_free(const std::string& name, const FileMapping&)
{
    std::error_code ec;
    CHECK_FALSE(FileMapping::open(name, ec).is_open());
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK(FileMapping::create(name, size).size() == size);
}

/// The next user finds our object intact, and our close still ends it.
void ours_is_intact(const std::string& name, const FileMapping& ours)
{
    FileMapping again = FileMapping::open(name);
    CHECK(again.size() == size);
    CHECK(again.read_string() == "ours");
    CHECK(ours.read_string() == "ours");
}

/// A persistent object is absent or whole, never empty or half-made.
void absent_or_whole(const std::string& name, const FileMapping&)
{
    std::error_code ec;
    FileMapping found = FileMapping::open(name, ec);
    if (ec) {
        CHECK(ec == std::errc::no_such_file_or_directory);
        CHECK(FileMapping::create(name, size, lifetime("persistent")).size() == size);
    } else {
        CHECK(found.size() == size);
        CHECK(test::thrown_code([&] { FileMapping::create(name, size, lifetime("persistent")); }) ==
              std::errc::file_exists);
    }
}

} // namespace

TEST_CASE("a creator killed at any step leaves the name free", "[posix_crash]")
{
    const Run run = kill_at_every_step("create", "scoped", Setup::nothing, name_is_free);
    CHECK(run.steps.count(step::create_object_made) == 1);
    CHECK(run.steps.count(step::create_sized) == 1);
    CHECK(run.steps.count(step::create_linked) == 1); // held by the dead: stale, reclaimed
    CHECK(run.deaths >= 3);
}

TEST_CASE("a persistent creator killed at any step leaves nothing half-built", "[posix_crash]")
{
    const Run run = kill_at_every_step("create", "persistent", Setup::nothing, absent_or_whole);
    CHECK(run.steps.count(step::create_object_made) == 1);
    CHECK(run.steps.count(step::create_linked) == 1); // whole at the name
    CHECK(run.deaths >= 3);
}

TEST_CASE("open_or_create killed at any step leaves the name free", "[posix_crash]")
{
    const Run run = kill_at_every_step("open_or_create", "scoped", Setup::nothing, name_is_free);
    CHECK(run.deaths >= 3);
}

TEST_CASE("an opener killed at any step leaves the holder's object intact", "[posix_crash]")
{
    const Run run = kill_at_every_step("open", "scoped", Setup::we_hold_it, ours_is_intact);
    CHECK(run.steps.count(step::open_holder_taken) == 1);
    kill_at_every_step("open", "persistent", Setup::persistent_made,
                       [](const std::string& name, const FileMapping&) {
                           CHECK(FileMapping::open(name).read_string() == "ours");
                       });
}

TEST_CASE("a last holder killed while closing leaves the name free", "[posix_crash]")
{
    const Run run = kill_at_every_step("close", "scoped", Setup::nothing, name_is_free);
    CHECK(run.steps.count(step::close_alone) == 1);
    CHECK(run.steps.count(step::close_unlinked) == 1);
    CHECK(run.steps.count(step::close_holder_released) == 1);
}

TEST_CASE("a holder killed while closing beside us leaves our object intact", "[posix_crash]")
{
    const Run run = kill_at_every_step("close", "scoped", Setup::we_hold_it, ours_is_intact);
    CHECK(run.steps.count(step::close_holder_released) == 1);
    CHECK(run.steps.count(step::close_alone) == 0); // we hold it: never alone, never unlinked
    CHECK(run.steps.count(step::close_unlinked) == 0);
}

TEST_CASE("a process killed while reclaiming a stale entry leaves the name free", "[posix_crash]")
{
    const Run opener = kill_at_every_step("open", "scoped", Setup::stale_entry, name_is_free);
    CHECK(opener.steps.count(step::reclaim_unlinked) == 1);
    const Run creator = kill_at_every_step("create", "scoped", Setup::stale_entry, name_is_free);
    CHECK(creator.steps.count(step::reclaim_locked) == 1);
    CHECK(creator.steps.count(step::reclaim_unlinked) == 1);
}

TEST_CASE("a NamedMutex creator killed at any step leaves the name free", "[posix_crash]")
{
    const Run run = kill_at_every_step("create_mutex", "scoped", Setup::nothing,
                                       [](const std::string& name, const FileMapping&) {
                                           std::error_code ec;
                                           filemap::NamedMutex::open(name, ec);
                                           CHECK(ec == std::errc::no_such_file_or_directory);
                                           auto mutex = filemap::NamedMutex::create(name);
                                           CHECK(mutex.try_lock());
                                           CHECK_FALSE(mutex.previous_owner_died());
                                           mutex.unlock();
                                       });
    CHECK(run.steps.count(step::block_built) == 1);
}

TEST_CASE("a NamedMutex its creator has not published is invisible, even persistent",
          "[posix_crash]")
{
    // Where the build step falls (the same for both lifetimes).
    const Run run = kill_at_every_step("create_mutex", "scoped", Setup::nothing, name_is_free);
    const auto at = std::find(run.in_order.begin(), run.in_order.end(), step::block_built);
    REQUIRE(at != run.in_order.end());
    const auto step = std::to_string(at - run.in_order.begin() + 1);
    for (const std::string kind : {"scoped", "persistent"}) {
        const std::string name = test::unique_name("unbuilt");
        test::Child creator =
            test::Child::role("die-at-step", {"create_mutex", kind, name, step, "pause"});
        REQUIRE(creator.read_line() == "dying at block: built, not yet published");
        // Built but not linked: nobody can reach it, nobody waits for it.
        const auto start = std::chrono::steady_clock::now();
        std::error_code ec;
        filemap::NamedMutex::open(name, ec);
        CHECK(ec == std::errc::no_such_file_or_directory);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
        auto ours = filemap::NamedMutex::open_or_create(name, lifetime(kind));
        CHECK(ours.created());
        creator.say("die");
        CHECK(creator.wait() == killed);
        CHECK(ours.try_lock());
        CHECK_FALSE(ours.previous_owner_died());
        ours.unlock();
        if (kind == "persistent") {
            CHECK(FileMapping::remove(name));
        }
    }
}
