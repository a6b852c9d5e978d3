// shared_bench: Shared<T> against a plain copy, Boost.Interprocess and a
// Channel, in one run. T is 64 bytes.
//
//   load64/*       one consistent copy of the value, uncontended: Shared's
//                  load() against a plain memcpy out of shared memory and a
//                  Boost interprocess_mutex around that memcpy
//   notify/*       a change seen by a waiting process and answered: Shared's
//                  store() woke the peer's wait_for_change(), which stores
//                  back; against a Channel ping-pong. Time is a round trip:
//                  half of it is one store-to-wake-up
//   store64/*      store() rate with 0, 1 or 3 processes polling load(), all
//                  along or every microsecond; CPU time of the writer (two
//                  CPUs here: with three readers, wall time would count the
//                  CPU they take, not the delay they cause). For reference, a
//                  hand-written seqlock of plain atomics with readers polling
//                  all along (the cache-coherence floor under any design) and
//                  a Boost mutex around a memcpy
// The peer is this program started again as `shared_bench --peer ROLE ...`.
#include "peer.hpp"

#include <filemap/filemap.hpp>

#include <benchmark/benchmark.h>
#include <boost/interprocess/sync/interprocess_mutex.hpp>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace bip = boost::interprocess;
using bench::Peer;
using bench::unique;

/// The shared value: 64 bytes, fixed-width.
struct alignas(8) Value {
    std::uint64_t words[7];
    std::uint64_t stop; // 1: the peer ends
};
static_assert(sizeof(Value) == 64);

/// A Boost interprocess_mutex and a Value in one mapping, as a user builds it.
struct BoostShared {
    bip::interprocess_mutex mutex;
    Value value;
};

// ---- load ----------------------------------------------------------------

void load_memcpy(benchmark::State& state)
{
    auto mapping = filemap::FileMapping::create(unique("plain"), sizeof(Value));
    const std::byte* shared = mapping.bytes().data();
    Value copy{};
    for (auto _ : state) {
        benchmark::DoNotOptimize(shared);
        std::memcpy(&copy, shared, sizeof copy);
        benchmark::DoNotOptimize(copy);
        benchmark::ClobberMemory();
    }
}

void load_shared(benchmark::State& state)
{
    auto shared = filemap::Shared<Value>::create(unique("load"), Value{{1, 2, 3}, 0});
    for (auto _ : state) {
        Value copy = shared.load();
        benchmark::DoNotOptimize(copy);
        benchmark::ClobberMemory();
    }
}

/// A BoostShared built in a new mapping (kept alive by the caller's `mapping`).
BoostShared& boost_shared(filemap::FileMapping& mapping)
{
    mapping = filemap::FileMapping::create(unique("boost"), sizeof(BoostShared));
    return *::new (static_cast<void*>(mapping.bytes().data())) BoostShared{};
}

void load_boost(benchmark::State& state)
{
    filemap::FileMapping mapping;
    BoostShared& shared = boost_shared(mapping);
    Value copy{};
    for (auto _ : state) {
        shared.mutex.lock();
        std::memcpy(&copy, &shared.value, sizeof copy);
        shared.mutex.unlock();
        benchmark::DoNotOptimize(copy);
        benchmark::ClobberMemory();
    }
}

// ---- store, woken peer, store back ---------------------------------------

void notify_shared(benchmark::State& state)
{
    const std::string ping_name = unique("sping");
    const std::string pong_name = unique("spong");
    auto ping = filemap::Shared<Value>::create(ping_name);
    auto pong = filemap::Shared<Value>::create(pong_name);
    Peer peer({"shared-echo", ping_name, pong_name});
    Value value{};
    bench::measure_round_trips(state, [&] {
        ++value.words[0];
        ping.store(value);
        for (;;) { // until the peer answered this value (it may answer another first)
            const std::uint64_t seen = pong.version();
            if (pong.load().words[0] == value.words[0]) {
                break;
            }
            pong.wait_for_change(seen, std::chrono::seconds(10));
        }
    });
    value.stop = 1;
    ping.store(value);
}

void notify_channel(benchmark::State& state)
{
    bench::roundtrip_channel(state, sizeof(Value));
}

// ---- store rate, with readers polling ------------------------------------

/// Starts `count` peers in `role` on `name`, told to stop through `stop_name`.
std::vector<std::unique_ptr<Peer>> readers(long count, const char* role, const std::string& name,
                                           const std::string& stop_name, long pause_ns)
{
    std::vector<std::unique_ptr<Peer>> started;
    for (long i = 0; i < count; ++i) {
        started.push_back(std::make_unique<Peer>(
            std::vector<std::string>{role, name, stop_name, std::to_string(pause_ns)}));
    }
    return started;
}

/// range(0) readers, each polling load() every range(1) ns (0: all along).
void store_shared(benchmark::State& state)
{
    const std::string name = unique("store");
    const std::string stop_name = unique("store-stop");
    auto shared = filemap::Shared<Value>::create(name);
    auto stop = filemap::Shared<Value>::create(stop_name);
    auto polling = readers(state.range(0), "poll", name, stop_name, state.range(1));
    Value value{};
    for (int i = 0; i < bench::warm_up; ++i) { // and the readers start polling
        shared.store(value);
    }
    for (auto _ : state) {
        ++value.words[0];
        shared.store(value);
    }
    state.SetItemsProcessed(state.iterations());
    stop.store(Value{{}, 1});
    polling.clear(); // waits for them
}

/// The floor under any design: a hand-written seqlock of plain atomics (no
/// lock between writers, no wake-up), with range(0) readers polling every
/// range(1) ns (0: all along).
struct RawSeqlock {
    std::atomic<std::uint64_t> sequence;
    std::atomic<std::uint64_t> words[8];
    std::atomic<std::uint64_t> stop;
};

void store_raw(benchmark::State& state)
{
    const std::string name = unique("raw");
    auto mapping = filemap::FileMapping::create(name, sizeof(RawSeqlock));
    auto& raw = *::new (static_cast<void*>(mapping.bytes().data())) RawSeqlock{};
    auto polling = readers(state.range(0), "raw-poll", name, name, state.range(1));
    std::uint64_t n = 0;
    for (int i = 0; i < bench::warm_up * 10; ++i) { // the readers start meanwhile
        benchmark::DoNotOptimize(raw.sequence.load());
    }
    for (auto _ : state) {
        ++n;
        const std::uint64_t sequence = raw.sequence.load(std::memory_order_relaxed);
        raw.sequence.store(sequence + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        for (auto& word : raw.words) {
            word.store(n, std::memory_order_relaxed);
        }
        raw.sequence.store(sequence + 2, std::memory_order_release);
    }
    state.SetItemsProcessed(state.iterations());
    raw.stop.store(1);
    polling.clear();
}

void store_boost(benchmark::State& state)
{
    filemap::FileMapping mapping;
    BoostShared& shared = boost_shared(mapping);
    Value value{};
    for (auto _ : state) {
        ++value.words[0];
        shared.mutex.lock();
        std::memcpy(&shared.value, &value, sizeof value);
        shared.mutex.unlock();
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}

// ---- the peer ------------------------------------------------------------

int peer(char** argv)
{
    const std::string role = argv[2];
    const auto arg = [&](int i) {
        return std::string(argv[3 + i]);
    };
    if (role == "channel-echo") {
        bench::echo_channel(arg(0), arg(1), sizeof(Value));
    } else if (role == "shared-echo") { // stores back every value it sees until stop
        auto ping = filemap::Shared<Value>::open(arg(0));
        auto pong = filemap::Shared<Value>::open(arg(1));
        // From version 0: whatever the first value is, it is answered.
        for (std::uint64_t seen = 0;;) {
            if (!ping.wait_for_change(seen, std::chrono::seconds(10))) {
                continue;
            }
            seen = ping.version();
            const Value value = ping.load();
            if (value.stop != 0) {
                break;
            }
            pong.store(value);
        }
    } else if (role == "poll") { // loads every PAUSE ns (0: all along) until told to stop
        auto shared = filemap::Shared<Value>::open(arg(0));
        auto stop = filemap::Shared<Value>::open(arg(1));
        const auto pause = std::chrono::nanoseconds(std::stol(arg(2)));
        while (stop.load().stop == 0) {
            benchmark::DoNotOptimize(shared.load());
            for (const auto until = bench::Clock::now() + pause; bench::Clock::now() < until;) {
            }
        }
    } else if (role == "raw-poll") { // reads the RawSeqlock every PAUSE ns until told to stop
        auto mapping = filemap::FileMapping::open(arg(0));
        auto& raw = *reinterpret_cast<RawSeqlock*>(mapping.bytes().data());
        const auto pause = std::chrono::nanoseconds(std::stol(arg(2)));
        while (raw.stop.load(std::memory_order_relaxed) == 0) {
            for (const auto until = bench::Clock::now() + pause; bench::Clock::now() < until;) {
            }
            std::uint64_t copy[8];
            std::uint64_t before = 0;
            do {
                before = raw.sequence.load(std::memory_order_acquire);
                for (int i = 0; i < 8; ++i) {
                    copy[i] = raw.words[i].load(std::memory_order_relaxed);
                }
                std::atomic_thread_fence(std::memory_order_acquire);
            } while ((before & 1) != 0 || raw.sequence.load(std::memory_order_relaxed) != before);
            benchmark::DoNotOptimize(copy);
        }
    }
    return 0;
}

} // namespace

BENCHMARK(load_memcpy)->Name("load64/memcpy")->Repetitions(5);
BENCHMARK(load_shared)->Name("load64/filemap_shared")->Repetitions(5);
BENCHMARK(load_boost)->Name("load64/boost_interprocess_mutex")->Repetitions(5);
BENCHMARK(notify_shared)
    ->Name("notify/filemap_shared")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(notify_channel)
    ->Name("notify/filemap_channel")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
/// The readers each store benchmark runs with: how many, and their pause.
void with_readers(benchmark::internal::Benchmark* bench)
{
    bench->ArgNames({"readers", "poll_ns"});
    for (const auto& [readers, pause] : {std::pair{0, 0}, {1, 0}, {3, 0}, {1, 1000}, {3, 1000}}) {
        bench->Args({readers, pause});
    }
    bench->Repetitions(5);
}

BENCHMARK(store_shared)->Name("store64/filemap_shared")->Apply(with_readers);
BENCHMARK(store_raw)->Name("store64/raw_seqlock")->Apply(with_readers);
BENCHMARK(store_boost)->Name("store64/boost_interprocess_mutex")->Repetitions(5);

int main(int argc, char** argv)
{
    return bench::main(argc, argv, peer);
}
