// streams.hpp - one-way streams of large messages, shared by the benchmark
// programs: the timing loop, the one-process memcpy they are held against,
// and Boost's message_queue with its sink peer (role "boost-sink").
#pragma once

#include "peer.hpp"

#include <benchmark/benchmark.h>
#include <boost/interprocess/ipc/message_queue.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <sched.h>

namespace bench {

/// Times `send()` of `size`-byte messages after `warm` untimed ones, then
/// `finish()` (which waits for the peer to have read them all).
template <class Send, class Finish>
void measure_stream(benchmark::State& state, std::size_t size, int warm, Send send, Finish finish)
{
    for (int i = 0; i < warm; ++i) {
        send();
    }
    for (auto _ : state) {
        send();
    }
    finish();
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

/// One memcpy of `size` bytes at a time, walking `span` bytes (as much
/// memory as the ring of the stream it is compared with): the target.
inline void stream_memcpy(benchmark::State& state, std::size_t size, std::size_t span)
{
    std::vector<char> from(span, 7);
    std::vector<char> to(span);
    std::size_t at = 0;
    for (auto _ : state) {
        std::memcpy(to.data() + at, from.data() + at, size);
        benchmark::ClobberMemory();
        at = (at + size) % span;
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

/// `size`-byte messages through a Boost message_queue of `depth` of them to
/// a "boost-sink" peer.
inline void stream_boost_message_queue(benchmark::State& state, std::size_t size, std::size_t depth,
                                       int warm)
{
    namespace bip = boost::interprocess;
    const std::string name = unique("bstream");
    bip::message_queue queue(bip::create_only, name.c_str(), depth, size);
    {
        Peer peer({"boost-sink", name, std::to_string(size)});
        std::vector<char> message(size, 7);
        measure_stream(
            state, size, warm, [&] { queue.send(message.data(), size, 0); },
            [&] {
                queue.send(message.data(), 0, 0);
                while (queue.get_num_msg() != 0) {
                    ::sched_yield();
                }
            });
    }
    bip::message_queue::remove(name.c_str());
}

/// The "boost-sink" peer: receives from queue `name` until an empty message.
inline void boost_sink(const std::string& name, std::size_t size)
{
    namespace bip = boost::interprocess;
    bip::message_queue in(bip::open_only, name.c_str());
    std::vector<char> buffer(size);
    for (;;) {
        bip::message_queue::size_type got = 0;
        unsigned priority = 0;
        in.receive(buffer.data(), buffer.size(), got, priority);
        if (got == 0) {
            return;
        }
    }
}

} // namespace bench
