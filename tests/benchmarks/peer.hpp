// peer.hpp - what every benchmark program shares: a peer process started
// as this program again (`<program> --peer ROLE ARGS...`), unique names, and
// round trips timed after a warm-up.
#pragma once

#include <filemap/filemap.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <csignal>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace bench {

using Clock = std::chrono::steady_clock;

/// Round trips before timing: lets the scheduler move a fresh peer to the other CPU.
inline constexpr int warm_up = 20000;

/// A name no other run uses: "fmb-<pid>-<what>".
inline std::string unique(const std::string& what)
{
    return "fmb-" + std::to_string(::getpid()) + "-" + what;
}

/// The peer process: started at construction, waited for at destruction.
class Peer {
public:
    explicit Peer(std::vector<std::string> args)
    {
        args.insert(args.begin(), {"/proc/self/exe", "--peer"});
        std::vector<char*> argv;
        for (auto& arg : args) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        ::posix_spawn(&pid_, "/proc/self/exe", nullptr, nullptr, argv.data(), environ);
    }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;
    ~Peer()
    {
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    void kill() const { ::kill(pid_, SIGKILL); }

private:
    pid_t pid_ = -1;
};

/// Times each round trip of `round_trip()`, after a warm-up that lets the
/// scheduler move the freshly started peer to the other CPU.
template <class RoundTrip>
void measure_round_trips(benchmark::State& state, RoundTrip round_trip)
{
    for (int i = 0; i < warm_up; ++i) {
        round_trip();
    }
    std::vector<double> samples;
    samples.reserve(1 << 20);
    for (auto _ : state) {
        const auto start = Clock::now();
        round_trip();
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    std::sort(samples.begin(), samples.end());
    state.counters["p50_us"] = samples[samples.size() / 2];
    state.counters["p99_us"] = samples[samples.size() * 99 / 100];
}

/// The peer's side of a Channel ping-pong: sends back every message of
/// up to `size` bytes until an empty one.
inline void echo_channel(const std::string& ping_name, const std::string& pong_name,
                         std::size_t size)
{
    filemap::Channel ping = filemap::Channel::open(ping_name);
    filemap::Channel pong = filemap::Channel::open(pong_name);
    std::vector<std::byte> message(size);
    while (ping.receive(message) != 0) {
        pong.send(message);
    }
}

/// Our side of that ping-pong: round trips of `size`-byte messages.
inline void roundtrip_channel(benchmark::State& state, std::size_t size)
{
    const std::string ping_name = unique("ping");
    const std::string pong_name = unique("pong");
    filemap::Channel ping = filemap::Channel::create(ping_name, size);
    filemap::Channel pong = filemap::Channel::create(pong_name, size);
    Peer peer({"channel-echo", ping_name, pong_name});
    std::vector<std::byte> message(size, std::byte{1});
    std::vector<std::byte> reply(size);
    measure_round_trips(state, [&] {
        ping.send(message);
        pong.receive(reply);
    });
    ping.send(std::span<const std::byte>{}); // an empty message: stop
}

/// A benchmark program's main(): `peer(argv)` when started as a peer
/// (`--peer ROLE ...`), else the benchmarks.
inline int main(int argc, char** argv, int (*peer)(char** argv))
{
    if (argc >= 3 && std::string_view(argv[1]) == "--peer") {
        return peer(argv);
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

} // namespace bench
