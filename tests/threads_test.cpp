// tests/threads_test.cpp - one FileMapping, NamedMutex or Channel object
// shared by the threads of a process. Run under ThreadSanitizer in CI: the
// threads touch the same addresses, so a missing happens-before shows.
#include "support.hpp"

#include <filemap/filemap.hpp>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using filemap::Channel;
using filemap::FileMapping;
using filemap::NamedMutex;

namespace {

constexpr int thread_count = 4;

template <class Body>
void on_threads(Body body)
{
    std::vector<std::thread> threads;
    for (int index = 0; index < thread_count; ++index) {
        threads.emplace_back(body, index);
    }
    for (auto& thread : threads) {
        thread.join();
    }
}

} // namespace

TEST_CASE("threads write their own parts of one mapping and read shared parts", "[threads]")
{
    constexpr std::size_t slice = 1024;
    FileMapping mapping =
        FileMapping::create(test::unique_name("slices"), slice * (thread_count + 1));
    mapping.write(std::string_view("read by all"), slice * thread_count);
    std::vector<int> misread(thread_count, 0);
    on_threads([&](int index) {
        const std::size_t mine = slice * static_cast<std::size_t>(index);
        for (std::uint32_t round = 0; round < 2000; ++round) {
            mapping.write_value(round, mine + round % (slice / 4) * 4);
            misread[static_cast<std::size_t>(index)] +=
                mapping.read_string(slice * thread_count) == "read by all" ? 0 : 1;
        }
    });
    CHECK(std::count(misread.begin(), misread.end(), 0) == thread_count);
    for (std::size_t index = 0; index < thread_count; ++index) {
        CHECK(mapping.read_value<std::uint32_t>(slice * index + 4 * (1999 % 256)) == 1999);
    }
}

TEST_CASE("threads sharing one NamedMutex exclude each other", "[threads]")
{
    const std::string name = test::unique_name("counted");
    NamedMutex mutex = NamedMutex::create(name + "-lock");
    FileMapping counter = FileMapping::create(name, sizeof(std::uint64_t));
    std::uint64_t& count = counter.as_span<std::uint64_t>(0, 1)[0]; // plain, not atomic
    on_threads([&](int) {
        for (int round = 0; round < 5000; ++round) {
            std::lock_guard<NamedMutex> hold(mutex);
            count = count + 1;
        }
    });
    CHECK(count == thread_count * 5000);
}

TEST_CASE("threads sending and receiving on one Channel lose and repeat nothing", "[threads]")
{
    Channel channel = Channel::create(test::unique_name("threads"), 64);
    constexpr std::uint32_t per_sender = 3000;
    constexpr int senders = thread_count / 2;
    std::vector<std::vector<std::uint32_t>> received(thread_count / 2);
    on_threads([&](int index) {
        if (index < senders) {
            for (std::uint32_t n = 0; n < per_sender; ++n) {
                const std::uint32_t message[2] = {static_cast<std::uint32_t>(index), n};
                channel.send(std::as_bytes(std::span(message)));
            }
            return;
        }
        auto& mine = received[static_cast<std::size_t>(index - senders)];
        for (std::uint32_t n = 0; n < per_sender; ++n) { // receivers share the work evenly
            std::uint32_t message[2] = {};
            channel.receive(std::as_writable_bytes(std::span(message)));
            mine.push_back(message[0] * per_sender + message[1]);
        }
    });
    std::vector<std::uint32_t> all;
    for (const auto& part : received) {
        all.insert(all.end(), part.begin(), part.end());
    }
    std::sort(all.begin(), all.end());
    CHECK(all.size() == senders * per_sender);
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end()); // none twice
    CHECK(all.back() == senders * per_sender - 1);                  // hence none lost
}
