// 07-counter: a counter shared by N processes, kept exact by a NamedMutex.
//
// Starts N copies of itself; each adds 1 to a counter in shared memory
// 10000 times under the mutex. The total is exact; without the lock, the
// read-modify-write races would lose increments. If a process dies holding
// the lock, the next one gets it and previous_owner_died() says so.
//
//     07-counter [processes]
#include <filemap/filemap.hpp>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace {

constexpr int increments = 10000;

int worker()
{
    auto mutex = filemap::NamedMutex::open("filemap-counter-lock");
    auto counter = filemap::FileMapping::open("filemap-counter");
    for (int i = 0; i < increments; ++i) {
        std::lock_guard<filemap::NamedMutex> lock(mutex);
        if (mutex.previous_owner_died()) {
            std::puts("worker: a previous holder died; the counter may be one short");
        }
        counter.write_value(counter.read_value<long>() + 1);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc > 1 && std::string(argv[1]) == "--worker") {
        return worker();
    }
    const int processes = argc > 1 ? std::atoi(argv[1]) : 4;
    // The parent holds both objects, so their names live while workers run.
    auto mutex = filemap::NamedMutex::create("filemap-counter-lock");
    auto counter = filemap::FileMapping::create("filemap-counter", sizeof(long));

    std::vector<pid_t> workers;
    for (int i = 0; i < processes; ++i) {
        char worker_flag[] = "--worker";
        char* child_argv[] = {argv[0], worker_flag, nullptr};
        pid_t pid = 0;
        if (::posix_spawn(&pid, argv[0], nullptr, nullptr, child_argv, environ) == 0) {
            workers.push_back(pid);
        }
    }
    for (const pid_t pid : workers) {
        ::waitpid(pid, nullptr, 0);
    }
    std::printf("counter: %ld (expected %d)\n", counter.read_value<long>(),
                static_cast<int>(workers.size()) * increments);
    return 0;
}
