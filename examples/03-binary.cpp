// 03-binary: binary data through shared memory - bytes, typed arrays and a
// struct - read back through a second, read-only handle.
//
// Everything is copied with bounds checks; a type that is not trivially
// copyable (std::string, a pointer-owning class) does not compile.
#include <filemap/filemap.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

struct Sample {
    std::uint32_t id;
    float temperature;
    std::array<char, 16> label;
};

int main()
{
    const std::string name = "filemap-binary-example";
    filemap::FileMapping writer = filemap::FileMapping::create(name, 1024);

    // 100 bytes 1..100 at the start, as a buffer.
    std::array<std::byte, 100> buffer{};
    for (std::size_t i = 0; i < buffer.size(); ++i) {
        buffer[i] = static_cast<std::byte>(i + 1);
    }
    writer.write(buffer);

    // A typed array and a struct, at offsets of our choosing.
    const std::array<std::uint64_t, 4> counters{10, 20, 30, 40};
    writer.write(std::span(counters), 128);
    writer.write_value(Sample{7, 21.5f, {'k', 'i', 't', 'c', 'h', 'e', 'n'}}, 256);

    // A second handle, read-only: another process would do exactly this.
    const filemap::FileMapping reader =
        filemap::FileMapping::open(name, filemap::Access::read_only);
    std::array<std::byte, 100> back{};
    reader.read(back);
    std::array<std::uint64_t, 4> counters_back{};
    reader.read(std::span(counters_back), 128);
    const auto sample = reader.read_value<Sample>(256);

    std::printf("bytes: %d .. %d\n", static_cast<int>(back.front()), static_cast<int>(back.back()));
    std::printf("counters: %llu %llu %llu %llu\n",
                static_cast<unsigned long long>(counters_back[0]),
                static_cast<unsigned long long>(counters_back[1]),
                static_cast<unsigned long long>(counters_back[2]),
                static_cast<unsigned long long>(counters_back[3]));
    std::printf("sample %u: %.1f in the %s\n", static_cast<unsigned>(sample.id),
                static_cast<double>(sample.temperature), sample.label.data());

    // Reading past the end is an exception, not a crash.
    try {
        reader.read(back, 1000);
    } catch (const std::out_of_range& e) {
        std::printf("as expected: %s\n", e.what());
    }
    return 0;
}
