// 08-shared-struct: a status struct published by one process, watched by others.
//
// The publisher and every watcher open the same Shared<Status> by name (the
// first to come creates it; Status is checked for size, alignment and type
// tag at every open). Each watcher joins by adding itself under lock(),
// then sleeps in wait_for_change() and prints each snapshot load() gives it:
// whole values, never half of an update. The publisher waits for its
// watchers the same way, then updates the status in steps under lock().
//
//     08-shared-struct publish NAME [watchers]
//     08-shared-struct watch NAME
#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

namespace {

/// Fixed-width fields only: the same bytes in 32- and 64-bit programs.
struct Status {
    std::uint32_t progress; ///< percent
    std::uint32_t watchers; ///< how many watchers joined
    std::uint32_t done;     ///< 1 once the work is over
    char phase[52];         ///< what is being done, '\0'-terminated
    /// Bump when the layout changes: programs built with another version refuse to open.
    static constexpr std::string_view type_tag = "filemap example Status v1";
};

constexpr auto patience = std::chrono::seconds(10);

int publish(const std::string& name, std::uint32_t watchers)
{
    auto status = filemap::Shared<Status>::open_or_create(name);
    std::printf("publisher: waiting for %u watcher(s)\n", watchers);
    for (std::uint64_t seen = status.version(); status.load().watchers < watchers;
         seen = status.version()) {
        if (!status.wait_for_change(seen, patience)) {
            std::puts("publisher: the watchers never came");
            return 1;
        }
    }
    const char* phases[] = {"reading", "sorting", "merging", "writing", "done"};
    for (std::uint32_t step = 1; step <= 5; ++step) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100)); // the work
        auto guard = status.lock(); // published, and watchers woken, when the guard ends
        guard->progress = step * 20;
        guard->done = step == 5 ? 1 : 0;
        std::snprintf(guard->phase, sizeof guard->phase, "%s", phases[step - 1]);
    }
    std::puts("publisher: done");
    return 0;
}

int watch(const std::string& name)
{
    auto status = filemap::Shared<Status>::open_or_create(name);
    {
        auto guard = status.lock();
        ++guard->watchers;
    }
    for (std::uint64_t seen = 0;;) {
        if (!status.wait_for_change(seen, patience)) {
            std::puts("watcher: no news for 10 s");
            return 1;
        }
        seen = status.version();
        const Status now = status.load(); // a consistent snapshot, without the lock
        if (now.progress > 0) {
            std::printf("watcher: %3u%% %s\n", now.progress, now.phase);
        }
        if (now.done != 0) {
            return 0;
        }
    }
}

} // namespace

int main(int argc, char** argv)
{
    const std::string role = argc > 2 ? argv[1] : "";
    try {
        if (role == "publish") {
            return publish(argv[2], argc > 3 ? static_cast<std::uint32_t>(std::atoi(argv[3])) : 1);
        }
        if (role == "watch") {
            return watch(argv[2]);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    std::fputs("usage: 08-shared-struct publish NAME [watchers] | watch NAME\n", stderr);
    return 2;
}
