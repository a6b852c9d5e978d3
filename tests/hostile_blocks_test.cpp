// tests/hostile_blocks_test.cpp - a peer with write access rewrites the shared
// bytes of a Channel, NamedMutex or Shared<T>: its header, its indices, its
// records, its lock, its version, or anything at random while we use it. We may get wrong data (a
// writer's right) and clear errors, never a crash, a read or write outside
// the mapping, or an exception from an `ec` overload.
#include "shared_types.hpp"
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

using filemap::Channel;
using filemap::FileMapping;
using filemap::NamedMutex;

namespace {

// Where the fields are, as channel.hpp and named_mutex.hpp lay them out (and
// static_assert): the same offsets in every process.
constexpr std::size_t capacity_at = 24;
constexpr std::size_t ring_size_at = 32;
constexpr std::size_t tail_at = 128;
constexpr std::size_t head_at = 192;
constexpr std::size_t ring_at = 256;
constexpr std::size_t lock_at = 24; // a NamedMutex's lock, after the header
// A Shared<T>'s type record, lock and version word (shared.hpp).
constexpr std::size_t type_at = 24;
constexpr std::size_t shared_lock_at = 112;
constexpr std::size_t version_at = 128;

std::string hex(const void* data, std::size_t size)
{
    static const char digits[] = "0123456789abcdef";
    std::string text;
    for (std::size_t i = 0; i < size; ++i) {
        const auto byte = static_cast<const unsigned char*>(data)[i];
        text += digits[byte >> 4];
        text += digits[byte & 15];
    }
    return text;
}

std::vector<std::byte> unhex(const std::string& text)
{
    std::vector<std::byte> bytes;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
        bytes.push_back(static_cast<std::byte>(std::stoi(text.substr(i, 2), nullptr, 16)));
    }
    return bytes;
}

// NAME OFFSET HEX: writes the bytes HEX at OFFSET of the object NAME.
const test::Role poke("poke", [](const test::Args& args) {
    FileMapping mapping = FileMapping::open(args.at(0));
    mapping.write(std::span<const std::byte>(unhex(args.at(2))), std::stoul(args.at(1)));
    test::tell("poked");
    return 0;
});

// NAME MS SEED [FROM]: for MS milliseconds, writes random bytes at random
// offsets of NAME from FROM on (each write a byte, or 8 of them over a field).
const test::Role scramble("scramble", [](const test::Args& args) {
    FileMapping mapping = FileMapping::open(args.at(0));
    std::mt19937_64 random(std::stoull(args.at(2)));
    const std::size_t from = args.size() > 3 ? std::stoul(args.at(3)) : 0;
    test::tell("started");
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(args.at(1)));
    long writes = 0;
    while (std::chrono::steady_clock::now() < until) {
        const std::uint64_t value = random();
        const auto at = from + static_cast<std::size_t>(random() % (mapping.size() - 8 - from));
        if (value & 1) {
            mapping.write_value(static_cast<std::uint8_t>(value >> 8), at);
        } else {
            mapping.write_value(value >> 1, at & ~std::size_t{7});
        }
        ++writes;
    }
    test::tell(std::to_string(writes));
    return 0;
});

// NAME OFFSET MS: for MS milliseconds, adds 1 to the 64-bit word at OFFSET.
const test::Role bump("bump", [](const test::Args& args) {
    FileMapping mapping = FileMapping::open(args.at(0));
    const std::size_t at = std::stoul(args.at(1));
    test::tell("started");
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(args.at(2)));
    long writes = 0;
    for (auto word = mapping.read_value<std::uint64_t>(at);
         std::chrono::steady_clock::now() < until; ++writes) {
        mapping.write_value(++word, at);
    }
    test::tell(std::to_string(writes));
    return 0;
});

/// Has a peer process write `value` at `offset` of `name`.
template <class T>
void peer_writes(const std::string& name, std::size_t offset, T value)
{
    test::Child peer =
        test::Child::role("poke", {name, std::to_string(offset), hex(&value, sizeof value)});
    REQUIRE(peer.read_line() == "poked");
    REQUIRE(peer.wait() == 0);
}

template <class T>
T read_at(const std::string& name, std::size_t offset)
{
    return FileMapping::open(name).read_value<T>(offset);
}

} // namespace

TEST_CASE("a channel header a peer rewrote is refused at open, whatever the values",
          "[hostile_blocks]")
{
    constexpr std::uint64_t most = ~std::uint64_t{0};
    const std::pair<std::uint64_t, std::uint64_t> headers[] = {
        {0, 8},                     // no capacity
        {16, 0},                    // no ring: a division by zero once
        {most - 7, 8},              // align8(capacity) + 8 wraps to 8
        {most, most},               // everything wraps
        {0x7FFFFFF1, 0x80000000},   // beyond the largest capacity create allows
        {16, 16},                   // a ring too small for the capacity
        {4096, 4096 + 8},           // consistent, but beyond the mapped object
        {16, (most - 255) & ~7ull}, // ring_offset + ring_size wraps
    };
    const std::string name = test::unique_name("header");
    Channel channel = Channel::create(name, 64);
    for (const auto& [capacity, ring_size] : headers) {
        INFO("capacity " << capacity << ", ring " << ring_size);
        peer_writes(name, capacity_at, capacity);
        peer_writes(name, ring_size_at, ring_size);
        std::error_code ec;
        CHECK_FALSE(Channel::open(name, ec).is_open());
        CHECK(ec == std::errc::invalid_argument);
        CHECK(test::thrown_what([&] { Channel::open(name); }).find("corrupt header") !=
              std::string::npos);
        CHECK_FALSE(Channel::open_or_create(name, 64, ec).is_open());
        CHECK(ec == std::errc::invalid_argument);
        // The channel opened before keeps its own checked copy of the header.
        channel.send(std::string_view("still works"));
        CHECK(channel.receive_string() == "still works");
    }
}

TEST_CASE("channel indices a peer rewrote fail the call, touch nothing outside the ring, and "
          "the channel works again once they are sound",
          "[hostile_blocks]")
{
    const std::string name = test::unique_name("indices");
    Channel channel = Channel::create(name, 64);
    channel.send(std::string_view("before"));
    CHECK(channel.receive_string() == "before");
    const auto head = read_at<std::uint64_t>(name, head_at);
    const auto tail = read_at<std::uint64_t>(name, tail_at);
    REQUIRE(head == tail);

    const std::pair<std::uint64_t, std::uint64_t> corrupt[] = {
        {head, tail + (1ull << 40)}, // a tail far past the head: would read beyond the ring
        {head + 8, tail},            // a head past the tail
        {~0ull - 3, tail},           // a head near the end of the counter
        {head, head - 8},            // a tail behind the head
    };
    for (const auto& [bad_head, bad_tail] : corrupt) {
        INFO("head " << bad_head << ", tail " << bad_tail);
        peer_writes(name, head_at, bad_head);
        peer_writes(name, tail_at, bad_tail);
        std::error_code code = test::thrown_code([&] { channel.try_receive(); });
        const std::string what = test::thrown_what([&] { channel.try_receive(); });
        if (code) { // a tail behind the head just looks empty to a receiver
            CHECK(code == std::errc::invalid_argument);
            CHECK(what.find("corrupt") != std::string::npos);
        }
        CHECK(test::thrown_code([&] { channel.try_send(std::as_bytes(std::span("x", 1))); }) ==
              std::errc::invalid_argument);
        peer_writes(name, head_at, head);
        peer_writes(name, tail_at, tail);
        channel.send(std::string_view("after"));
        CHECK(channel.receive_string() == "after");
    }
}

TEST_CASE("a record length a peer rewrote is a corrupt record, reported on every try",
          "[hostile_blocks]")
{
    const std::string name = test::unique_name("record");
    Channel channel = Channel::create(name, 64);
    channel.send(std::string_view("a message to find"));
    const auto head = read_at<std::uint64_t>(name, head_at);
    for (const std::uint32_t length : {0xFFFFFFF0u, 65u, 60u}) {
        INFO("length " << length);
        peer_writes(name, ring_at + static_cast<std::size_t>(head % 80),
                    length); // ring of align8(64) + 8 bytes
        for (int attempt = 0; attempt < 2; ++attempt) {
            const std::string what = test::thrown_what([&] { channel.receive_string(); });
            CHECK(what.find("corrupt record at byte " + std::to_string(head)) != std::string::npos);
        }
    }
    peer_writes(name, ring_at + static_cast<std::size_t>(head % 80), std::uint32_t{17});
    CHECK(channel.receive_string() == "a message to find");
}

TEST_CASE("a held lock whose bytes a peer rewrote: unlock writes nowhere, the next lock "
          "recovers or waits within its deadline",
          "[hostile_blocks]")
{
    const std::string name = test::unique_name("lock-bytes");
    NamedMutex mutex = NamedMutex::create(name);
    mutex.lock();
    // POSIX: our PID namespace, recorded beside the holder (unused on Windows).
    [[maybe_unused]] const auto namespace_word = read_at<std::uint32_t>(name, lock_at + 4);
    // Where glibc's robust mutex kept list pointers that unlock wrote through.
    const std::uint64_t junk = 0x4141414141414141;
    peer_writes(name, lock_at, junk);
    peer_writes(name, lock_at + 8, junk);
    mutex.unlock(); // POSIX: not ours any more, left alone
#if defined(_WIN32)
    // The kernel holds the lock: the bytes are unused.
    REQUIRE(mutex.try_lock());
    CHECK_FALSE(mutex.previous_owner_died());
    mutex.unlock();
#else
    // The "holder" claims another PID namespace: its ids cannot be judged,
    // so it is waited for, as long as the caller's deadline says.
    CHECK_FALSE(mutex.try_lock_for(std::chrono::milliseconds(100)));
    // With our namespace back, the holder 0x41414141 is judged: there is no such thread.
    peer_writes(name, lock_at + 4, namespace_word);
    REQUIRE(mutex.try_lock_for(std::chrono::seconds(10)));
    CHECK(mutex.previous_owner_died());
    mutex.unlock();
#endif
    CHECK(mutex.try_lock());
    CHECK_FALSE(mutex.previous_owner_died());
    mutex.unlock();
}

TEST_CASE("ec overloads never throw, whatever an object holds", "[hostile_blocks]")
{
    // Valid headers to start from: the first bytes of a real mutex and channel.
    const std::string mutex_name = test::unique_name("real-mutex");
    const std::string channel_name = test::unique_name("real-channel");
    NamedMutex real_mutex = NamedMutex::create(mutex_name);
    Channel real_channel = Channel::create(channel_name, 64);
    const auto prefix = [](const std::string& name, std::size_t bytes) {
        FileMapping mapping = FileMapping::open(name);
        std::vector<std::byte> data(bytes);
        mapping.read(std::span<std::byte>(data), 0);
        return data;
    };
    const auto mutex_bytes = prefix(mutex_name, 40);
    const auto channel_bytes = prefix(channel_name, ring_at);
    std::mt19937 random(42);
    int small_mutexes = 0; // opened although smaller than a mutex
    int channels = 0;      // opened with a random header
    for (std::size_t size = 1; size <= ring_at + 96; size += 1 + size / 8) {
        for (const auto* header : {&mutex_bytes, &channel_bytes}) {
            const std::string name = test::unique_name("fake");
            FileMapping fake = FileMapping::create(name, size);
            std::vector<std::byte> bytes(size);
            for (auto& byte : bytes) {
                byte = static_cast<std::byte>(random());
            }
            std::memcpy(bytes.data(), header->data(), std::min(size, std::size_t{24}));
            fake.write(std::span<const std::byte>(bytes));
            INFO("size " << size);
            std::error_code ec;
            // A mutex is any bytes after its header: its lock word may say anything.
            const int small = test::opened_size(size) < 40 ? 1 : 0;
            CHECK_NOTHROW(small_mutexes += NamedMutex::open(name, ec).is_open() ? small : 0);
            CHECK_NOTHROW(small_mutexes +=
                          NamedMutex::open_or_create(name, ec).is_open() ? small : 0);
            CHECK_NOTHROW(channels += Channel::open(name, ec).is_open() ? 1 : 0);
            CHECK_NOTHROW(channels += Channel::open_or_create(name, 16, ec).is_open() ? 1 : 0);
        }
    }
    CHECK(small_mutexes == 0);
    CHECK(channels == 0);
}

TEST_CASE("a peer scrambling a live channel and mutex: every call returns or fails cleanly",
          "[hostile_blocks]")
{
    const std::string channel_name = test::unique_name("scrambled");
    const std::string mutex_name = test::unique_name("scrambled-mutex");
    Channel channel = Channel::create(channel_name, 256);
    NamedMutex mutex = NamedMutex::create(mutex_name);
    test::Child channel_peer = test::Child::role("scramble", {channel_name, "400", "1"});
    test::Child mutex_peer = test::Child::role("scramble", {mutex_name, "400", "2"});
    REQUIRE(channel_peer.read_line() == "started");
    REQUIRE(mutex_peer.read_line() == "started");
    std::mt19937 random(3);
    std::vector<std::byte> message(256);
    std::vector<std::byte> buffer(256);
    int calls = 0;
    int refused = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(350);
    while (std::chrono::steady_clock::now() < until) {
        const auto attempt = [&](auto&& call) {
            ++calls;
            try {
                call();
            } catch (const std::system_error& e) {
                ++refused;
                // Only what a corrupt object may say; never a crash.
                CHECK((e.code() == std::errc::invalid_argument ||
                       e.code() == std::errc::message_size ||
                       e.code() == std::errc::resource_deadlock_would_occur));
            }
        };
        const std::size_t length = random() % 257;
        attempt([&] { channel.try_send(std::span(message).first(length)); });
        attempt([&] { channel.try_receive(); });
        attempt([&] { channel.receive_for(std::chrono::microseconds(50)); });
        attempt([&] {
            if (mutex.try_lock()) {
                mutex.unlock();
            }
        });
    }
    CHECK(std::stol(channel_peer.read_line()) > 0);
    CHECK(std::stol(mutex_peer.read_line()) > 0);
    CHECK(channel_peer.wait() == 0);
    CHECK(mutex_peer.wait() == 0);
    INFO(calls << " calls, " << refused << " refused");
    CHECK(calls > 100);
}

TEST_CASE("a Shared<T> written by a process of the other byte order is named at open",
          "[hostile_blocks]")
{
    const auto swapped = [](std::uint32_t word) {
        return filemap::detail::swap_bytes(word);
    };
    const std::string name = test::unique_name("shared-endian");
    auto shared = filemap::Shared<shared_types::Counter>::create(name);
    const std::string other = filemap::detail::other_byte_order;
    const std::string ours = filemap::detail::this_byte_order;
    const std::string expected = "filemap: open \"" + name +
                                 "\": Invalid argument: the object was created by a " + other +
                                 "-endian process, this one is " + ours + "-endian";
    // The type record's mark alone, then the whole header as such a process writes it.
    peer_writes(name, type_at, swapped(read_at<std::uint32_t>(name, type_at)));
    CHECK(test::thrown_what([&] { (void)filemap::Shared<shared_types::Counter>::open(name); }) ==
          expected);
    peer_writes(name, 0, swapped(read_at<std::uint32_t>(name, 0)));
    peer_writes(name, 4, swapped(read_at<std::uint32_t>(name, 4)));
    CHECK(test::thrown_what([&] { (void)filemap::Shared<shared_types::Counter>::open(name); }) ==
          expected);
    // Another kind, byte-swapped, is still not a mutex.
    CHECK(test::thrown_what([&] { (void)filemap::NamedMutex::open(name); }) ==
          "filemap: open \"" + name + "\": Invalid argument: the object is not a mutex");
}

TEST_CASE("a peer bumping a Shared<T>'s version: load() returns whole values or times out",
          "[hostile_blocks]")
{
    using shared_types::Checked;
    const std::string name = test::unique_name("shared-bumped");
    auto shared = filemap::Shared<Checked>::create(name, shared_types::checked(1));
    shared.store(shared_types::checked(2)); // both copies whole: 1 and 2
    test::Child peer = test::Child::role("bump", {name, std::to_string(version_at), "1500"});
    REQUIRE(peer.read_line() == "started");
    int loads = 0;
    int timed_out = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1300);
    while (std::chrono::steady_clock::now() < until) {
        try {
            const Checked value = shared.load();
            CHECK(shared_types::whole(value));
            ++loads;
        } catch (const std::system_error& e) {
            CHECK(e.code() == std::errc::timed_out);
            ++timed_out;
        }
    }
    CHECK(std::stol(peer.read_line()) > 0);
    CHECK(peer.wait() == 0);
    INFO(loads << " loads, " << timed_out << " timed out");
    CHECK(loads + timed_out > 0);
    // The version is the peer's to write; a store still leaves a whole value.
    shared.store(shared_types::checked(3));
    CHECK(shared_types::number_of(shared.load()) == 3);
}

TEST_CASE("a peer scrambling a live Shared<T>: loads and waits return or fail cleanly, and "
          "what open checked is never read again",
          "[hostile_blocks]")
{
    using shared_types::Checked;
    const std::string name = test::unique_name("shared-scrambled");
    auto shared = filemap::Shared<Checked>::create(name, shared_types::checked(1));
    // Everything from the version on (a scrambled lock is a held lock: the
    // mutex tests cover it).
    test::Child peer =
        test::Child::role("scramble", {name, "400", "4", std::to_string(version_at)});
    REQUIRE(peer.read_line() == "started");
    int calls = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(350);
    while (std::chrono::steady_clock::now() < until) {
        ++calls;
        try {
            (void)shared.load(); // any bytes: the peer's right to write them
            (void)shared.wait_for_change(shared.version(), std::chrono::microseconds(100));
        } catch (const std::system_error& e) {
            CHECK(e.code() == std::errc::timed_out);
        }
    }
    CHECK(std::stol(peer.read_line()) > 0);
    CHECK(peer.wait() == 0);
    CHECK(calls > 10);
    // A record rewritten after open changes nothing for those that opened.
    peer_writes(name, type_at + 8, std::uint32_t{999});
    shared.store(shared_types::checked(5));
    CHECK(shared_types::number_of(shared.load()) == 5);
    CHECK(test::thrown_code([&] { (void)filemap::Shared<Checked>::open(name); }) ==
          std::errc::invalid_argument);
}

TEST_CASE("a Shared<T> lock a peer rewrote: try_lock_for() is bounded, and a dead holder is "
          "taken over",
          "[hostile_blocks]")
{
    const std::string name = test::unique_name("shared-lock-bytes");
    auto shared = filemap::Shared<shared_types::Counter>::create(name);
    // POSIX: the holder's PID namespace is recorded beside it (unused on Windows).
    const auto namespace_word = [&] {
        auto guard = shared.lock();
        return read_at<std::uint32_t>(name, shared_lock_at + 4);
    }();
    const std::uint64_t junk = 0x4141414141414141;
    peer_writes(name, shared_lock_at, junk);
    peer_writes(name, shared_lock_at + 8, junk);
#if defined(_WIN32)
    // The kernel holds the lock: the bytes are unused.
    auto guard = shared.try_lock_for(std::chrono::seconds(10));
    REQUIRE(guard.has_value());
    CHECK_FALSE(guard->previous_owner_died());
    static_cast<void>(namespace_word);
#else
    // A "holder" in another PID namespace cannot be judged: waited for, as
    // long as the caller's timeout says, never for ever.
    CHECK_FALSE(shared.try_lock_for(std::chrono::milliseconds(100)).has_value());
    // In ours, the holder 0x41414141 is judged: there is no such thread.
    peer_writes(name, shared_lock_at + 4, namespace_word);
    auto guard = shared.try_lock_for(std::chrono::seconds(10));
    REQUIRE(guard.has_value());
    CHECK(guard->previous_owner_died());
#endif
}
