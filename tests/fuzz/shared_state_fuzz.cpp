// shared_state_fuzz: libFuzzer over the bytes of live shared blocks. A peer
// with write access may write anything into a Channel, NamedMutex, Topic or
// Shared<T> between (or during) our operations; none of it may crash us, make us read or
// write outside the mapping (ASan), overflow (UBSan), block, or throw
// anything but std::system_error. Built with clang
// -fsanitize=fuzzer,address,undefined; any report is a bug.
//
// Input: a first byte for the channel's capacity, then a program of
// operations: rewrite bytes of the channel, mutex or shared object (as the
// peer), send, receive, lock, store, load, open a second handle. Every wait
// has a deadline of now, so no input can hang the fuzzer (the shared
// object's lock, which lock() waits for without one, is left alone: a
// rewritten lock is a held lock, which the mutex covers). While no byte was
// rewritten, the channel must deliver exactly what was sent, in order, and
// the shared object load what was stored: functional oracles.
#include <filemap/filemap.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
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
const std::string shared_name = "fmf-" + std::to_string(::getpid()) + "-shared";
const std::string topic_name = "fmf-" + std::to_string(::getpid()) + "-topic";

/// The shared object's T: 40 bytes, not a multiple of 16.
struct Record {
    std::uint64_t words[5];
    bool operator==(const Record&) const = default;
};
/// Where Shared<T> keeps its lock (shared.hpp static_asserts it).
constexpr std::size_t shared_lock_at = 112;
constexpr std::size_t shared_lock_end = 128;

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
    auto shared = filemap::Shared<Record>::create(shared_name);
    filemap::FileMapping shared_bytes = filemap::FileMapping::open(shared_name);
    const auto policy =
        input.ConsumeBool() ? filemap::Overflow::block : filemap::Overflow::drop_oldest;
    filemap::Topic topic = filemap::Topic::create(topic_name, capacity, policy);
    filemap::Subscriber subscriber = filemap::Subscriber::open(topic_name);
    filemap::FileMapping topic_bytes = filemap::FileMapping::open(topic_name);
    std::deque<std::vector<std::byte>> published; // what the subscriber has to read, while trusted
    bool topic_trusted = policy == filemap::Overflow::block; // drop_oldest may drop: no oracle
    Record stored{}; // what the shared object holds, while trusted
    bool shared_trusted = true;

    std::deque<std::vector<std::byte>> sent; // what the channel holds, while trusted
    bool trusted = true;
    int next = 0;
    while (input.remaining_bytes() > 0) {
        switch (input.ConsumeIntegralInRange(0, 17)) {
        case 13:
            rewrite(input, topic_bytes);
            topic_trusted = false;
            break;
        case 14: {
            std::vector<std::byte> message(
                input.ConsumeIntegralInRange<std::size_t>(0, capacity + 8),
                static_cast<std::byte>(++next));
            const bool lend = input.ConsumeBool();
            attempt([&] {
                bool done = false;
                if (lend) {
                    if (auto loan = topic.try_prepare(message.size())) {
                        std::copy(message.begin(), message.end(), loan->data());
                        loan->commit();
                        done = true;
                    }
                } else {
                    done = topic.try_publish(message);
                }
                if (done && topic_trusted) {
                    published.push_back(message);
                }
            });
            break;
        }
        case 15:
        case 16:
            attempt([&] {
                std::optional<std::vector<std::byte>> got;
                subscriber.try_receive_with([&](std::span<const std::byte> bytes) {
                    got.emplace(bytes.begin(), bytes.end());
                });
                if (topic_trusted) {
                    if (published.empty() != !got || (got && *got != published.front())) {
                        fail(); // a sound topic lost, invented or changed a message
                    }
                    if (got) {
                        published.pop_front();
                    }
                }
            });
            break;
        case 17: {
            // A second subscriber reads the (maybe rewritten) header afresh.
            std::error_code ec;
            filemap::Subscriber other = filemap::Subscriber::open(topic_name, ec);
            if (other.is_open()) {
                attempt([&] { other.try_receive(); });
            }
            break;
        }
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
        case 8: {
            const auto at = input.ConsumeIntegralInRange<std::size_t>(0, shared_bytes.size() - 1);
            const auto value = input.ConsumeIntegral<std::uint64_t>();
            if (at + 8 <= shared_lock_at || at >= shared_lock_end) {
                const std::size_t fits = std::min<std::size_t>(8, shared_bytes.size() - at);
                shared_bytes.write(std::as_bytes(std::span(&value, 1)).first(fits), at);
                shared_trusted = false;
            }
            break;
        }
        case 9:
            attempt([&] {
                Record value{};
                value.words[input.ConsumeIntegralInRange(0, 4)] =
                    static_cast<std::uint64_t>(++next);
                // store() waits for the lock without limit, as lock() does, and the
                // rewritten bytes may show a holder that is never judged dead (one of
                // another PID namespace): store only once the lock is seen free.
                if (!shared.try_lock_for(std::chrono::milliseconds(0))) {
                    return;
                }
                shared.store(value);
                stored = value; // a store makes the current copy whole and ours again
                shared_trusted = true;
            });
            break;
        case 10:
            attempt([&] {
                const Record got = shared.load();
                if (shared_trusted && !(got == stored)) {
                    fail(); // a sound object returned something never stored
                }
                (void)shared.wait_for_change(shared.version(), std::chrono::seconds(0));
            });
            break;
        case 11: {
            // A second handle checks the (maybe rewritten) header afresh.
            std::error_code ec;
            auto other = filemap::Shared<Record>::open(shared_name, ec);
            if (other.is_open()) {
                attempt([&] {
                    auto guard = other.lock();
                    guard->words[0] ^= 1;
                    stored = *guard; // published as the guard ends, whatever the peer wrote
                    shared_trusted = true;
                });
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
