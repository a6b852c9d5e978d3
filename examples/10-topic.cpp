// 10-topic: a frame producer and its subscribers, one to many, without copies.
//
// The producer publishes video-like frames (a small header, then 64 KiB of
// pixels) on a Topic; every subscriber sees every frame, in order, read
// where the producer wrote it. The topic blocks: the producer waits for the
// slowest subscriber, so nothing is lost (Overflow::drop_oldest would let a
// slow one skip frames instead, and tell it how many). Start the
// subscribers first: a subscriber sees what is published after it joined.
//
//     10-topic produce NAME [frames] [subscribers]
//     10-topic watch NAME
#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <thread>

namespace {

/// Fixed-width fields: the same bytes in every program that reads them.
struct FrameHeader {
    std::uint32_t number;
    std::uint32_t last; ///< 1 on the final frame
    std::uint32_t width;
    std::uint32_t height;
    std::uint64_t checksum; ///< of the pixels
};
constexpr std::uint32_t width = 256;
constexpr std::uint32_t height = 256;
constexpr std::size_t frame_size = sizeof(FrameHeader) + std::size_t{width} * height;

std::uint64_t checksum(std::span<const std::byte> pixels)
{
    std::uint64_t sum = 0;
    for (const std::byte b : pixels) {
        sum = sum * 31 + std::to_integer<std::uint64_t>(b);
    }
    return sum;
}

int produce(const std::string& name, std::uint32_t frames, std::size_t subscribers)
{
    auto topic = filemap::Topic::open_or_create(name, frame_size, filemap::Overflow::block);
    const auto patience = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (topic.subscribers() < subscribers) { // a frame reaches only who has joined
        if (std::chrono::steady_clock::now() > patience) {
            std::puts("producer: the subscribers never came");
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (std::uint32_t n = 1; n <= frames; ++n) {
        // Room inside the topic's ring: the frame is drawn where subscribers will read it.
        filemap::Loan loan = topic.prepare(frame_size);
        const std::span<std::byte> pixels = loan.bytes().subspan(sizeof(FrameHeader));
        for (std::size_t i = 0; i < pixels.size(); ++i) {
            pixels[i] = static_cast<std::byte>((i / width + i % width + n) & 0xFF);
        }
        const FrameHeader header{n, n == frames ? 1U : 0U, width, height, checksum(pixels)};
        std::memcpy(loan.data(), &header, sizeof header);
        loan.commit(); // every subscriber may read it now
    }
    std::printf("producer: %u frames of %zu bytes to %zu subscribers\n", frames, frame_size,
                subscribers);
    return 0;
}

int watch(const std::string& name)
{
    // The producer may not be there yet: create the topic if it is not.
    auto topic = filemap::Topic::open_or_create(name, frame_size, filemap::Overflow::block);
    auto frames = filemap::Subscriber::open(name);
    std::uint32_t seen = 0;
    std::uint32_t broken = 0;
    for (bool last = false; !last;) {
        frames.receive_with([&](std::span<const std::byte> frame) { // in place, no copy
            FrameHeader header{};
            std::memcpy(&header, frame.data(), sizeof header);
            broken += checksum(frame.subspan(sizeof header)) != header.checksum;
            ++seen;
            last = header.last != 0;
        });
    }
    std::printf("subscriber: %u frames, %u broken, %llu missed\n", seen, broken,
                static_cast<unsigned long long>(frames.missed()));
    return broken == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "produce" && argc >= 3) {
        const auto frames =
            argc > 3 ? static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10)) : 100U;
        const std::size_t subscribers = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 1;
        return produce(argv[2], frames == 0 ? 1U : frames, subscribers);
    }
    if (mode == "watch" && argc >= 3) {
        return watch(argv[2]);
    }
    std::fprintf(stderr,
                 "usage: %s produce NAME [frames] [subscribers]\n"
                 "       %s watch NAME\n",
                 argv[0], argv[0]);
    return 2;
}
