// shared_state_fuzz: libFuzzer over the bytes of live shared blocks. A peer
// with write access may write anything into a Channel or NamedMutex between
// (or during) our operations; none of it may crash us, make us read or
// write outside the mapping (ASan), overflow (UBSan), block, or throw
// anything but std::system_error. Built with clang
// -fsanitize=fuzzer,address,undefined; any report is a bug.
//
// Input: a first byte for the channel's capacity, then a program of
// operations: rewrite bytes of the channel or mutex (as the peer), send,
// receive, lock, open a second handle. Every wait has a deadline of now, so
// no input can hang the fuzzer. While no byte was rewritten, the channel
// must also deliver exactly what was sent, in order: a functional oracle.
#include <filemap/filemap.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace {

[[noreturn]] void fail()
{
    __builtin_trap(); // reported by libFuzzer with the input that caused it
}

const std::string channel_name = "fmf-" + std::to_string(::getpid()) + "-channel";
const std::string mutex_name = "fmf-" + std::to_string(::getpid()) + "-mutex";

/// Runs `call`; a std::system_error is a clean refusal, anything else escapes.
template <class Call>
void attempt(Call&& call)
{
    try {
        call();
    } catch (const std::system_error&) {
    }
}

/// The peer: writes `bytes` at a position of `mapping` the input picks.
void rewrite(FuzzedDataProvider& input, filemap::FileMapping& mapping)
{
    const auto length = input.ConsumeIntegralInRange<std::size_t>(1, 8);
    // Mostly the header and the hot words; sometimes anywhere.
    const std::size_t span =
        input.ConsumeBool() ? std::min<std::size_t>(mapping.size(), 264) : mapping.size();
    const std::size_t at = input.ConsumeIntegralInRange<std::size_t>(0, span - 1);
    const std::vector<std::uint8_t> bytes = input.ConsumeBytes<std::uint8_t>(length);
    const std::size_t fits = std::min(bytes.size(), mapping.size() - at);
    mapping.write(std::as_bytes(std::span(bytes.data(), fits)), at);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    FuzzedDataProvider input(data, size);
    const auto capacity = input.ConsumeIntegralInRange<std::size_t>(1, 300);
    filemap::Channel channel = filemap::Channel::create(channel_name, capacity);
    filemap::NamedMutex mutex = filemap::NamedMutex::create(mutex_name);
    filemap::FileMapping channel_bytes = filemap::FileMapping::open(channel_name);
    filemap::FileMapping mutex_bytes = filemap::FileMapping::open(mutex_name);

    std::deque<std::vector<std::byte>> sent; // what the channel holds, while trusted
    bool trusted = true;
    int next = 0;
    while (input.remaining_bytes() > 0) {
        switch (input.ConsumeIntegralInRange(0, 7)) {
        case 0:
            rewrite(input, channel_bytes);
            trusted = false;
            break;
        case 1: rewrite(input, mutex_bytes); break;
        case 2: {
            std::vector<std::byte> message(
                input.ConsumeIntegralInRange<std::size_t>(0, capacity + 8),
                static_cast<std::byte>(++next));
            attempt([&] {
                if (channel.try_send(message) && trusted) {
                    sent.push_back(message);
                }
            });
            break;
        }
        case 3:
        case 4:
            attempt([&] {
                const auto got = input.ConsumeBool()
                                     ? channel.try_receive()
                                     : channel.receive_for(std::chrono::microseconds(0));
                if (trusted) {
                    if (sent.empty() != !got || (got && *got != sent.front())) {
                        fail(); // a sound channel lost, invented or changed a message
                    }
                    if (got) {
                        sent.pop_front();
                    }
                }
            });
            break;
        case 5:
            attempt([&] {
                if (mutex.try_lock()) {
                    mutex.unlock();
                }
            });
            break;
        case 6: {
            // A second handle reads the (maybe rewritten) header afresh.
            std::error_code ec;
            filemap::Channel other = filemap::Channel::open(channel_name, ec);
            if (other.is_open()) {
                attempt([&] { other.try_receive(); });
                trusted = false; // it may have taken a message
            }
            break;
        }
        default: {
            std::error_code ec;
            filemap::NamedMutex other = filemap::NamedMutex::open(mutex_name, ec);
            if (other.is_open()) {
                attempt([&] {
                    if (other.try_lock()) {
                        other.unlock();
                    }
                });
            }
            break;
        }
        }
    }
    return 0;
}
