// topic_bench: messages built and read in place (Channel loans) against
// copies, one memcpy, a pipe and Boost's message_queue; and a Topic's fan-out
// to four subscribers against a Channel's one-to-one, in the same run.
//
//   stream64k/..., stream1m/...   one-way throughput of 64 KiB and 1 MiB
//                       messages to a peer process:
//     channel_loan      the sender writes each message into a Loan (one memcpy
//                       from its own buffer, standing in for building it there),
//                       the receiver reads it in place (receive_with), one
//                       8-byte word of every cache line
//     channel_copy      send() copies in, receive(buffer) copies out
//     pipe, boost_message_queue
//     memcpy            one memcpy of the same bytes in one process: the target
//   fanout64/...        one-way latency of 64-byte messages, publish to the
//                       last receiver (each message carries its send time; the
//                       next waits for every receiver's answer): a Topic with 1,
//                       2 and 4 subscribers, against a Channel;
//                       counters one_way_p50_us / one_way_p99_us
//   fanout1m/...        1 MiB messages to 1, 2 and 4 subscribers, built and read
//                       in place: bytes per second that each subscriber reads;
//                       memcpy of 1 MiB, the target
#include "peer.hpp"
#include "streams.hpp"

#include <filemap/filemap.hpp>

#include <benchmark/benchmark.h>
#include <boost/interprocess/ipc/message_queue.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

namespace bip = boost::interprocess;
using bench::Peer;
using bench::unique;

constexpr std::size_t in_flight = 4; // the ring holds twice this many messages

/// Reads one word of every cache line of `message`: reading it, in place.
std::uint64_t touch(std::span<const std::byte> message)
{
    std::uint64_t sum = 0;
    for (std::size_t at = 0; at + 8 <= message.size(); at += 64) {
        std::uint64_t word;
        std::memcpy(&word, message.data() + at, 8);
        sum += word;
    }
    return sum;
}

using bench::measure_stream;
constexpr int warm_streams = 200; // messages sent before timing

void stream_channel(benchmark::State& state, bool loan)
{
    const auto size = static_cast<std::size_t>(state.range(0));
    const std::string name = unique("stream");
    const std::string done_name = unique("done");
    filemap::Options options;
    options.prefault = true;
    filemap::Channel channel = filemap::Channel::create(name, in_flight * size, options);
    filemap::Channel done = filemap::Channel::create(done_name, 64);
    Peer peer({loan ? "channel-reader" : "channel-copier", name, done_name, std::to_string(size)});
    std::vector<std::byte> message(size, std::byte{7});
    measure_stream(
        state, size, warm_streams,
        [&] {
            if (loan) {
                filemap::Loan room = channel.prepare(size);
                std::memcpy(room.data(), message.data(), size);
                room.commit();
            } else {
                channel.send(message);
            }
        },
        [&] {
            channel.send(std::span<const std::byte>{});
            done.receive();
        });
}

void stream_channel_loan(benchmark::State& state)
{
    stream_channel(state, true);
}
void stream_channel_copy(benchmark::State& state)
{
    stream_channel(state, false);
}

void stream_pipe(benchmark::State& state)
{
    const auto size = static_cast<std::size_t>(state.range(0));
    int there[2];
    int back[2];
    if (::pipe(there) != 0 || ::pipe(back) != 0) {
        state.SkipWithError("pipe");
        return;
    }
    ::fcntl(there[1], F_SETFD, FD_CLOEXEC);
    ::fcntl(back[0], F_SETFD, FD_CLOEXEC);
    {
        Peer peer(
            {"fd-sink", std::to_string(there[0]), std::to_string(back[1]), std::to_string(size)});
        ::close(there[0]);
        ::close(back[1]);
        std::vector<char> message(size, 7);
        measure_stream(
            state, size, warm_streams,
            [&] {
                for (std::size_t sent = 0; sent < size;) {
                    const auto n = ::write(there[1], message.data() + sent, size - sent);
                    sent += n > 0 ? static_cast<std::size_t>(n) : 0;
                }
            },
            [&] {
                ::close(there[1]);
                char ack = 0;
                benchmark::DoNotOptimize(::read(back[0], &ack, 1));
            });
    }
    ::close(back[0]);
}

void stream_boost(benchmark::State& state)
{
    const auto size = static_cast<std::size_t>(state.range(0));
    bench::stream_boost_message_queue(state, size, 2 * in_flight, warm_streams);
}

void stream_memcpy(benchmark::State& state)
{
    const auto size = static_cast<std::size_t>(state.range(0));
    bench::stream_memcpy(state, size, 2 * in_flight * size); // as much memory as the ring
}

// ---- fan-out ---------------------------------------------------------------

constexpr int subscribers = 4;

/// Nanoseconds on the steady clock, which every process on the machine shares.
std::int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               bench::Clock::now().time_since_epoch())
        .count();
}

/// Starts `count` peers in `role` on `topic`, each answering on a Channel
/// of its own (returned, in order); waits until all have subscribed.
struct Subscribers {
    std::vector<filemap::Channel> acks;
    std::vector<std::unique_ptr<Peer>> peers;
};
Subscribers start_subscribers(const filemap::Topic& topic, int count, const char* role,
                              std::size_t size)
{
    Subscribers started;
    for (int i = 0; i < count; ++i) {
        const std::string acks_name = unique("ack" + std::to_string(i));
        started.acks.push_back(filemap::Channel::create(acks_name, 64));
        started.peers.push_back(std::make_unique<Peer>(std::vector<std::string>{
            role, std::string(topic.name()), acks_name, std::to_string(size)}));
    }
    while (topic.subscribers() < static_cast<std::size_t>(count)) {
        ::usleep(1000);
    }
    return started;
}

/// One-way latency of 64-byte messages from publish to the last of `count`
/// receivers: each message carries the time it was sent, each receiver
/// answers with how long it took to reach it, and the next message waits for
/// every answer. Counters: p50/p99 of the slowest receiver's latency.
template <class Send>
void measure_fanout(benchmark::State& state, std::vector<filemap::Channel>& acks, Send send)
{
    std::vector<double> samples;
    samples.reserve(1 << 20);
    std::byte message[64] = {};
    const auto once = [&] {
        const std::int64_t sent = now_ns();
        std::memcpy(message, &sent, sizeof sent);
        send(std::span<const std::byte>(message));
        std::int64_t slowest = 0;
        for (filemap::Channel& ack : acks) {
            std::int64_t took = 0;
            ack.receive(std::as_writable_bytes(std::span(&took, 1)));
            slowest = std::max(slowest, took);
        }
        return static_cast<double>(slowest) / 1000.0;
    };
    for (int i = 0; i < bench::warm_up; ++i) {
        once();
    }
    for (auto _ : state) {
        samples.push_back(once());
    }
    std::sort(samples.begin(), samples.end());
    state.counters["one_way_p50_us"] = samples[samples.size() / 2];
    state.counters["one_way_p99_us"] = samples[samples.size() * 99 / 100];
}

void fanout64_topic(benchmark::State& state)
{
    const int count = static_cast<int>(state.range(0));
    filemap::Topic topic = filemap::Topic::create(unique("fan"), 64, filemap::Overflow::block);
    auto started = start_subscribers(topic, count, "fan-stamp", 64);
    measure_fanout(state, started.acks,
                   [&](std::span<const std::byte> message) { topic.publish(message); });
    topic.publish(std::span<const std::byte>{});
}

void fanout64_channel(benchmark::State& state)
{
    const std::string name = unique("fanchan");
    filemap::Channel channel = filemap::Channel::create(name, 64);
    std::vector<filemap::Channel> acks;
    const std::string acks_name = unique("ack");
    acks.push_back(filemap::Channel::create(acks_name, 64));
    Peer peer({"channel-stamp", name, acks_name});
    measure_fanout(state, acks, [&](std::span<const std::byte> message) { channel.send(message); });
    channel.send(std::span<const std::byte>{});
}

void fanout1m_topic(benchmark::State& state)
{
    constexpr std::size_t size = 1 << 20;
    const std::string name = unique("fanbig");
    filemap::Options options;
    options.prefault = true;
    filemap::Topic topic =
        filemap::Topic::create(name, in_flight * size, filemap::Overflow::block, options);
    {
        auto started =
            start_subscribers(topic, static_cast<int>(state.range(0)), "fan-reader", size);
        std::vector<std::byte> message(size, std::byte{3});
        measure_stream(
            state, size, warm_streams,
            [&] {
                filemap::Loan room = topic.prepare(size);
                std::memcpy(room.data(), message.data(), size);
                room.commit();
            },
            [&] {
                topic.publish(std::span<const std::byte>{});
                for (filemap::Channel& ack : started.acks) {
                    ack.receive();
                }
            });
    }
}

// ---- the peer ----------------------------------------------------------------

int peer(char** argv)
{
    const std::string role = argv[2];
    const auto arg = [&](int i) {
        return std::string(argv[3 + i]);
    };
    std::uint64_t sum = 0;
    if (role == "channel-echo") {
        bench::echo_channel(arg(0), arg(1), 64);
    } else if (role == "channel-reader" || role == "channel-copier") {
        filemap::Channel channel = filemap::Channel::open(arg(0));
        filemap::Channel done = filemap::Channel::open(arg(1));
        std::vector<std::byte> buffer(std::stoul(arg(2)));
        for (bool more = true; more;) {
            if (role == "channel-reader") {
                channel.receive_with([&](std::span<const std::byte> message) {
                    more = !message.empty();
                    sum += touch(message);
                });
            } else {
                more = channel.receive(buffer) != 0;
            }
        }
        done.send("done");
    } else if (role == "fd-sink") {
        const int in = std::stoi(arg(0));
        const int out = std::stoi(arg(1));
        std::vector<char> buffer(std::stoul(arg(2)));
        while (::read(in, buffer.data(), buffer.size()) > 0) {
        }
        benchmark::DoNotOptimize(::write(out, "k", 1));
    } else if (role == "boost-sink") {
        bench::boost_sink(arg(0), std::stoul(arg(1)));
    } else if (role == "fan-stamp" || role == "channel-stamp") {
        // Answers each message with how long it took to arrive.
        filemap::Channel acks = filemap::Channel::open(arg(1));
        const auto answer = [&](std::span<const std::byte> message) {
            std::int64_t sent = 0;
            if (message.size() >= sizeof sent) {
                std::memcpy(&sent, message.data(), sizeof sent);
                const std::int64_t took = now_ns() - sent;
                acks.send(std::as_bytes(std::span(&took, 1)));
            }
            return !message.empty();
        };
        if (role == "fan-stamp") {
            filemap::Subscriber topic = filemap::Subscriber::open(arg(0));
            for (bool more = true; more;) {
                topic.receive_with(
                    [&](std::span<const std::byte> message) { more = answer(message); });
            }
        } else {
            filemap::Channel channel = filemap::Channel::open(arg(0));
            for (bool more = true; more;) {
                channel.receive_with(
                    [&](std::span<const std::byte> message) { more = answer(message); });
            }
        }
    } else if (role == "fan-reader") { // reads every message in place; answers the last
        filemap::Subscriber topic = filemap::Subscriber::open(arg(0));
        filemap::Channel acks = filemap::Channel::open(arg(1));
        for (bool more = true; more;) {
            topic.receive_with([&](std::span<const std::byte> message) {
                more = !message.empty();
                sum += touch(message);
            });
        }
        acks.send(std::string_view("done"));
    }
    benchmark::DoNotOptimize(sum);
    return 0;
}

/// The stream benchmarks, one family per message size, filemap first.
void register_streams()
{
    const std::pair<const char*, std::int64_t> families[] = {{"stream64k/", 64 << 10},
                                                             {"stream1m/", 1 << 20}};
    for (const auto& [family, size] : families) {
        const auto add = [&](const char* contender, void (*run)(benchmark::State&)) {
            return benchmark::RegisterBenchmark((std::string(family) + contender).c_str(), run)
                ->Arg(size)
                ->Repetitions(3)
                ->UseRealTime();
        };
        add("filemap_channel_loan", stream_channel_loan)->MinTime(0.5);
        add("filemap_channel_copy", stream_channel_copy)->MinTime(0.5);
        add("pipe", stream_pipe)->MinTime(0.5);
        add("boost_message_queue", stream_boost)->MinTime(0.5);
        add("memcpy", stream_memcpy);
    }
}

} // namespace

BENCHMARK(fanout64_channel)
    ->Name("fanout64/filemap_channel")
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(fanout64_topic)
    ->Name("fanout64/filemap_topic")
    ->ArgName("subscribers")
    ->Arg(1)
    ->Arg(2)
    ->Arg(subscribers)
    ->Repetitions(3)
    ->MinTime(1.0)
    ->UseRealTime();
BENCHMARK(fanout1m_topic)
    ->Name("fanout1m/filemap_topic")
    ->ArgName("subscribers")
    ->Arg(1)
    ->Arg(2)
    ->Arg(subscribers)
    ->Repetitions(3)
    ->MinTime(0.5)
    ->UseRealTime();
BENCHMARK(stream_memcpy)->Name("fanout1m/memcpy")->Arg(1 << 20)->Repetitions(3);

int main(int argc, char** argv)
{
    register_streams();
    return bench::main(argc, argv, peer);
}
