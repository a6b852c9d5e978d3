// channel_bench: Channel and NamedMutex against a pipe, a Unix socketpair and
// Boost.Interprocess message_queue, between two real processes, in one run.
//
//   roundtrip/*   64-byte ping-pong; time is one round trip; p50/p99 counters
//   stream/*      64 KiB messages one way; bytes_per_second
//   mutex/*       uncontended lock + unlock
//   mutex_contended/*  lock + unlock while a second process does the same
//                 on the same lock; time is one pair in this process
//   mutex_recovery/*   from SIGKILL of a holder to the waiter's lock
// The peer is this program started again as `channel_bench --peer ROLE ...`.
#include "peer.hpp"
#include "streams.hpp"

#include <filemap/filemap.hpp>

#include <benchmark/benchmark.h>
#include <boost/interprocess/ipc/message_queue.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

namespace bip = boost::interprocess;
using bench::Clock;
using bench::measure_round_trips;
using bench::Peer;
using bench::unique;
using bench::warm_up;

constexpr std::size_t small = 64;
constexpr std::size_t large = 64 * 1024;
constexpr std::size_t ring = 4 * 1024 * 1024;

/// Lets the peer inherit `fd`; everything else is close-on-exec.
void inherit(int fd)
{
    ::fcntl(fd, F_SETFD, 0);
}

enum class Link { pipes, socketpair };

/// Starts `role` in a peer joined to us by two pipes or one socketpair and
/// runs `body(to_peer, from_peer)`, which ends the peer's input when done
/// (end_input). Then waits for the peer and closes our ends.
template <class Body>
void with_peer(benchmark::State& state, const char* role, Link link, Body body)
{
    int there[2]; // pipes: the peer reads there[0], we write there[1]
    int back[2];  // pipes: the peer writes back[1], we read back[0]
    const bool made = link == Link::pipes
                          ? ::pipe2(there, O_CLOEXEC) == 0 && ::pipe2(back, O_CLOEXEC) == 0
                          : ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, there) == 0;
    if (!made) {
        state.SkipWithError(link == Link::pipes ? "pipe" : "socketpair");
        return;
    }
    if (link == Link::socketpair) { // one socket each: the peer's there[0], ours there[1]
        back[0] = there[1];
        back[1] = there[0];
    }
    inherit(there[0]);
    inherit(back[1]);
    {
        Peer peer({role, std::to_string(there[0]), std::to_string(back[1])});
        ::close(there[0]);
        if (back[1] != there[0]) {
            ::close(back[1]);
        }
        body(there[1], back[0]);
    }
    ::close(back[0]);
    if (there[1] != back[0]) {
        ::close(there[1]);
    }
}

/// Tells the peer there is no more input: a socket is shut for writing (its
/// read side stays), a pipe's write end is replaced by /dev/null's, so the
/// descriptor number stays ours to close once.
void end_input(int to_peer)
{
    if (::shutdown(to_peer, SHUT_WR) != 0) {
        const int nothing = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        ::dup2(nothing, to_peer);
        ::close(nothing);
    }
}

// ---- round trips ---------------------------------------------------------

void roundtrip_channel(benchmark::State& state)
{
    bench::roundtrip_channel(state, small);
}

void roundtrip_channel_with_hog(benchmark::State& state)
{
    Peer hog({"hog"});
    roundtrip_channel(state);
    hog.kill();
}

/// The same ping-pong over two descriptors of a pipe pair or a socketpair.
void roundtrip_descriptors(benchmark::State& state, int to_peer, int from_peer)
{
    std::vector<char> message(small, 1);
    measure_round_trips(state, [&] {
        benchmark::DoNotOptimize(::write(to_peer, message.data(), small));
        std::size_t got = 0;
        while (got < small) {
            got += static_cast<std::size_t>(::read(from_peer, message.data() + got, small - got));
        }
    });
    end_input(to_peer);
}

void roundtrip_pipe(benchmark::State& state)
{
    with_peer(state, "fd-echo", Link::pipes, [&](int to_peer, int from_peer) {
        roundtrip_descriptors(state, to_peer, from_peer);
    });
}

void roundtrip_socketpair(benchmark::State& state)
{
    with_peer(state, "fd-echo", Link::socketpair, [&](int to_peer, int from_peer) {
        roundtrip_descriptors(state, to_peer, from_peer);
    });
}

void roundtrip_boost_message_queue(benchmark::State& state)
{
    const std::string ping_name = unique("bping");
    const std::string pong_name = unique("bpong");
    bip::message_queue ping(bip::create_only, ping_name.c_str(), 16, small);
    bip::message_queue pong(bip::create_only, pong_name.c_str(), 16, small);
    {
        Peer peer({"boost-echo", ping_name, pong_name});
        std::vector<char> message(small, 1);
        measure_round_trips(state, [&] {
            ping.send(message.data(), small, 0);
            bip::message_queue::size_type got = 0;
            unsigned priority = 0;
            pong.receive(message.data(), small, got, priority);
        });
        ping.send(message.data(), 0, 0); // stop
    }
    bip::message_queue::remove(ping_name.c_str());
    bip::message_queue::remove(pong_name.c_str());
}

// ---- one-way streams of 64 KiB messages ------------------------------------

constexpr int warm_streams = 2000; // messages sent before timing

void stream_channel(benchmark::State& state)
{
    const std::string name = unique("stream");
    const std::string done_name = unique("done");
    filemap::Options options;
    options.prefault = true;
    filemap::Channel channel = filemap::Channel::create(name, ring, options);
    filemap::Channel done = filemap::Channel::create(done_name, small);
    Peer peer({"channel-sink", name, done_name});
    std::vector<std::byte> message(large, std::byte{7});
    bench::measure_stream(
        state, large, warm_streams, [&] { channel.send(message); },
        [&] {
            channel.send(std::span<const std::byte>{});
            done.receive();
        });
}

void stream_descriptors(benchmark::State& state, int to_peer, int from_peer)
{
    std::vector<char> message(large, 7);
    bench::measure_stream(
        state, large, warm_streams,
        [&] {
            std::size_t sent = 0;
            while (sent < large) {
                sent +=
                    static_cast<std::size_t>(::write(to_peer, message.data() + sent, large - sent));
            }
        },
        [&] {
            end_input(to_peer);
            char ack = 0;
            benchmark::DoNotOptimize(::read(from_peer, &ack, 1));
        });
}

void stream_pipe(benchmark::State& state)
{
    with_peer(state, "fd-sink", Link::pipes,
              [&](int to_peer, int from_peer) { stream_descriptors(state, to_peer, from_peer); });
}

void stream_socketpair(benchmark::State& state)
{
    with_peer(state, "fd-sink", Link::socketpair,
              [&](int to_peer, int from_peer) { stream_descriptors(state, to_peer, from_peer); });
}

void stream_boost_message_queue(benchmark::State& state)
{
    bench::stream_boost_message_queue(state, large, ring / large, warm_streams);
}

void stream_memcpy(benchmark::State& state)
{
    bench::stream_memcpy(state, large, ring);
}

// ---- mutexes -------------------------------------------------------------

void mutex_named(benchmark::State& state)
{
    filemap::NamedMutex mutex = filemap::NamedMutex::create(unique("mutex"));
    for (auto _ : state) {
        mutex.lock();
        mutex.unlock();
    }
}

void mutex_std(benchmark::State& state)
{
    std::mutex mutex;
    for (auto _ : state) {
        mutex.lock();
        mutex.unlock();
    }
}

void mutex_boost_interprocess(benchmark::State& state)
{
    bip::interprocess_mutex mutex;
    for (auto _ : state) {
        mutex.lock();
        mutex.unlock();
    }
}

/// What the contended runs share with their peer: the non-filemap locks
/// (in place, process-shared) and the flags that start and stop it.
struct Arena {
    std::atomic<int> running;
    std::atomic<int> stop;
    alignas(64) bip::interprocess_mutex boost;
    alignas(64) pthread_mutex_t robust;
};

void make_robust(pthread_mutex_t& mutex)
{
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
}

void mutex_glibc_robust(benchmark::State& state)
{
    pthread_mutex_t mutex;
    make_robust(mutex);
    for (auto _ : state) {
        pthread_mutex_lock(&mutex);
        pthread_mutex_unlock(&mutex);
    }
    pthread_mutex_destroy(&mutex);
}

/// One of the locks the mutex_* runs compare, shared with a peer process:
/// `kind` is "filemap" (a NamedMutex), "boost" or "robust" (glibc's), the
/// last two in an Arena. The creator makes the arena and the NamedMutex,
/// and tears the arena down at the end; the peer opens them.
class Contender {
public:
    Contender(const std::string& kind, const std::string& arena_name, const std::string& mutex_name,
              bool create)
        : kind_(kind == "filemap" ? Kind::filemap
                : kind == "boost" ? Kind::boost
                                  : Kind::robust),
          creator_(create),
          mapping_(create ? filemap::FileMapping::create(arena_name, sizeof(Arena))
                          : filemap::FileMapping::open(arena_name)),
          named_(create ? filemap::NamedMutex::create(mutex_name)
                        : filemap::NamedMutex::open(mutex_name))
    {
        if (create) {
            make_robust((new (mapping_.bytes().data()) Arena{})->robust);
        }
    }
    Contender(const Contender&) = delete;
    Contender& operator=(const Contender&) = delete;
    ~Contender()
    {
        if (creator_) {
            pthread_mutex_destroy(&arena().robust);
            arena().~Arena();
        }
    }

    Arena& arena() { return *reinterpret_cast<Arena*>(mapping_.bytes().data()); }

    /// Locks; glibc's robust mutex is made consistent after its owner died.
    void lock()
    {
        switch (kind_) {
        case Kind::filemap: named_.lock(); break;
        case Kind::boost: arena().boost.lock(); break;
        case Kind::robust:
            if (pthread_mutex_lock(&arena().robust) == EOWNERDEAD) {
                pthread_mutex_consistent(&arena().robust);
            }
            break;
        }
    }

    void unlock()
    {
        switch (kind_) {
        case Kind::filemap: named_.unlock(); break;
        case Kind::boost: arena().boost.unlock(); break;
        case Kind::robust: pthread_mutex_unlock(&arena().robust); break;
        }
    }

private:
    enum class Kind { filemap, boost, robust };
    Kind kind_;
    bool creator_;
    filemap::FileMapping mapping_;
    filemap::NamedMutex named_;
};

/// Lock + unlock of `kind` while a peer process hammers the same lock.
void mutex_contended(benchmark::State& state, const std::string& kind)
{
    const std::string arena_name = unique("arena");
    const std::string mutex_name = unique("contended");
    Contender contender(kind, arena_name, mutex_name, true);
    Peer peer({"mutex-hammer", kind, arena_name, mutex_name});
    while (contender.arena().running.load() == 0) {
        ::sched_yield();
    }
    for (int i = 0; i < warm_up; ++i) {
        contender.lock();
        contender.unlock();
    }
    for (auto _ : state) {
        contender.lock();
        contender.unlock();
    }
    contender.arena().stop.store(1);
}

/// From the SIGKILL of a process holding the lock to the lock in this
/// process, which was already waiting. glibc's robust mutex is released by
/// the kernel as the holder exits; filemap's waiter notices within
/// peer_check_interval.
void mutex_recovery(benchmark::State& state, const std::string& kind)
{
    const std::string arena_name = unique("recovery-arena");
    const std::string mutex_name = unique("recovery");
    Contender contender(kind, arena_name, mutex_name, true);
    for (auto _ : state) {
        contender.arena().running.store(0);
        Peer peer({"mutex-holder", kind, arena_name, mutex_name});
        while (contender.arena().running.load() == 0) {
            ::sched_yield();
        }
        Clock::time_point killed;
        std::thread killer([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(2)); // we are waiting by then
            killed = Clock::now();
            peer.kill();
        });
        contender.lock();
        const auto locked = Clock::now();
        killer.join();
        state.SetIterationTime(std::chrono::duration<double>(locked - killed).count());
        contender.unlock();
    }
}

// ---- the peer ------------------------------------------------------------

int peer(char** argv)
{
    const std::string role = argv[2];
    const auto arg = [&](int i) {
        return std::string(argv[3 + i]);
    };
    if (role == "channel-echo") {
        bench::echo_channel(arg(0), arg(1), small);
    } else if (role == "channel-sink") {
        filemap::Channel channel = filemap::Channel::open(arg(0));
        filemap::Channel done = filemap::Channel::open(arg(1));
        std::vector<std::byte> message(large);
        while (channel.receive(message) != 0) {
        }
        done.send("done");
    } else if (role == "fd-echo" || role == "fd-sink") {
        const int in = std::stoi(arg(0));
        const int out = std::stoi(arg(1));
        const std::size_t unit = role == "fd-echo" ? small : large;
        std::vector<char> buffer(unit);
        for (;;) {
            std::size_t got = 0;
            while (got < unit) {
                const auto n = ::read(in, buffer.data() + got, unit - got);
                if (n <= 0) {
                    if (role == "fd-sink") {
                        benchmark::DoNotOptimize(::write(out, "k", 1));
                    }
                    return 0;
                }
                got += static_cast<std::size_t>(n);
            }
            if (role == "fd-echo") {
                benchmark::DoNotOptimize(::write(out, buffer.data(), unit));
            }
        }
    } else if (role == "boost-echo") {
        bip::message_queue in(bip::open_only, arg(0).c_str());
        bip::message_queue out(bip::open_only, arg(1).c_str());
        std::vector<char> buffer(small);
        for (;;) {
            bip::message_queue::size_type got = 0;
            unsigned priority = 0;
            in.receive(buffer.data(), buffer.size(), got, priority);
            if (got == 0) {
                return 0;
            }
            out.send(buffer.data(), got, 0);
        }
    } else if (role == "boost-sink") {
        bench::boost_sink(arg(0), std::stoul(arg(1)));
    } else if (role == "mutex-hammer") {
        Contender contender(arg(0), arg(1), arg(2), false);
        contender.arena().running.store(1);
        while (contender.arena().stop.load(std::memory_order_relaxed) == 0) {
            contender.lock();
            contender.unlock();
        }
    } else if (role == "mutex-holder") { // locks, then holds the lock until killed
        Contender contender(arg(0), arg(1), arg(2), false);
        contender.lock();
        contender.arena().running.store(1);
        for (;;) {
            ::pause();
        }
    } else if (role == "hog") {
        for (;;) {
            benchmark::DoNotOptimize(role);
        }
    }
    return 0;
}

} // namespace

BENCHMARK(roundtrip_channel)
    ->Name("roundtrip/filemap_channel")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(roundtrip_pipe)->Name("roundtrip/pipe")->Repetitions(3)->MinTime(1.0)->UseRealTime();
BENCHMARK(roundtrip_socketpair)
    ->Name("roundtrip/socketpair")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(roundtrip_boost_message_queue)
    ->Name("roundtrip/boost_message_queue")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(roundtrip_channel_with_hog)
    ->Name("roundtrip/filemap_channel_cpu_hog")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(stream_channel)
    ->Name("stream64k/filemap_channel")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(stream_pipe)->Name("stream64k/pipe")->Repetitions(3)->MinTime(1.0)->UseRealTime();
BENCHMARK(stream_socketpair)
    ->Name("stream64k/socketpair")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(stream_boost_message_queue)
    ->Name("stream64k/boost_message_queue")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(stream_memcpy)->Name("stream64k/memcpy")->Repetitions(3);
BENCHMARK(mutex_named)->Name("mutex/filemap_named_mutex")->Repetitions(3);
BENCHMARK(mutex_std)->Name("mutex/std_mutex")->Repetitions(3);
BENCHMARK(mutex_boost_interprocess)->Name("mutex/boost_interprocess_mutex")->Repetitions(3);
BENCHMARK(mutex_glibc_robust)->Name("mutex/glibc_robust_mutex")->Repetitions(3);
BENCHMARK_CAPTURE(mutex_contended, filemap, std::string("filemap"))
    ->Name("mutex_contended/filemap_named_mutex")
    ->Repetitions(5)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(mutex_contended, boost, std::string("boost"))
    ->Name("mutex_contended/boost_interprocess_mutex")
    ->Repetitions(5)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK_CAPTURE(mutex_contended, robust, std::string("robust"))
    ->Name("mutex_contended/glibc_robust_mutex")
    ->Repetitions(5)
    ->MinTime(1.0)
    ->UseRealTime();

BENCHMARK_CAPTURE(mutex_recovery, filemap, std::string("filemap"))
    ->Name("mutex_recovery/filemap_named_mutex")
    ->Iterations(20)
    ->Repetitions(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(mutex_recovery, robust, std::string("robust"))
    ->Name("mutex_recovery/glibc_robust_mutex")
    ->Iterations(20)
    ->Repetitions(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv)
{
    return bench::main(argc, argv, peer);
}
