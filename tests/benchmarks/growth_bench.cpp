// growth_bench: what growing costs, against creating the same bytes anew,
// and what reading through a grown mapping costs against a fixed one.
//
//   grow1m/*    1 MiB more of backed memory: FileMapping::grow() on a
//               growable object, the raw calls under it (posix_fallocate +
//               mprotect), and, for comparison, a new 1 MiB object made by
//               filemap, by the raw calls and by Boost.Interprocess (which
//               cannot grow a mapped segment at all)
//   read16m/*   16 MiB already in memory, read through a fixed mapping and
//               through one grown to it 4 KiB at a time: a span sum and
//               read_value() per 8 bytes (one bounds check per access)
#include <filemap/filemap.hpp>

#include <benchmark/benchmark.h>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <cstdint>
#include <numeric>
#include <span>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace {

namespace bip = boost::interprocess;
using filemap::FileMapping;

constexpr std::size_t mib = std::size_t{1} << 20;
constexpr std::size_t most = std::size_t{512} << 20; // a growable object's max_size here

std::string unique(const std::string& what)
{
    return "fmb-" + std::to_string(::getpid()) + "-" + what;
}

filemap::Options growable(std::size_t max_size)
{
    filemap::Options options;
    options.max_size = max_size;
    return options;
}

// ---- grow1m ------------------------------------------------------------------

void grow_filemap(benchmark::State& state)
{
    const std::string name = unique("grow");
    FileMapping mapping = FileMapping::create(name, mib, growable(most));
    for (auto _ : state) {
        if (mapping.size() + mib > most) { // start again, untimed
            state.PauseTiming();
            mapping = FileMapping();
            mapping = FileMapping::create(name, mib, growable(most));
            state.ResumeTiming();
        }
        mapping.grow(mapping.size() + mib);
    }
}

void grow_raw(benchmark::State& state)
{
    const std::string name = std::string(1, '/').append(unique("grow-raw"));
    const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ::shm_unlink(name.c_str());
    auto* base = static_cast<std::byte*>(
        ::mmap(nullptr, most, PROT_NONE, MAP_SHARED | MAP_NORESERVE, fd, 0));
    std::size_t size = 0;
    for (auto _ : state) {
        if (size + mib > most) {
            state.PauseTiming();
            ::munmap(base, most);
            ::ftruncate(fd, 0);
            base = static_cast<std::byte*>(
                ::mmap(nullptr, most, PROT_NONE, MAP_SHARED | MAP_NORESERVE, fd, 0));
            size = 0;
            state.ResumeTiming();
        }
        if (::posix_fallocate(fd, static_cast<off_t>(size), mib) != 0 ||
            ::mprotect(base + size, mib, PROT_READ | PROT_WRITE) != 0) {
            state.SkipWithError("posix_fallocate / mprotect");
            break;
        }
        size += mib;
    }
    ::munmap(base, most);
    ::close(fd);
}

void create_filemap(benchmark::State& state)
{
    const std::string name = unique("create");
    for (auto _ : state) {
        FileMapping mapping = FileMapping::create(name, mib); // reserved, as a grow is
        benchmark::DoNotOptimize(mapping.bytes().data());
    }
}

void create_raw(benchmark::State& state)
{
    const std::string name = std::string(1, '/').append(unique("create-raw"));
    for (auto _ : state) {
        const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ::posix_fallocate(fd, 0, mib) != 0) {
            state.SkipWithError("shm_open / posix_fallocate");
            break;
        }
        void* data = ::mmap(nullptr, mib, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        benchmark::DoNotOptimize(data);
        ::munmap(data, mib);
        ::close(fd);
        ::shm_unlink(name.c_str());
    }
}

void create_boost(benchmark::State& state)
{
    const std::string name = unique("create-boost");
    for (auto _ : state) {
        bip::shared_memory_object object(bip::create_only, name.c_str(), bip::read_write);
        object.truncate(mib); // ftruncate: sparse, nothing backed
        bip::mapped_region region(object, bip::read_write);
        benchmark::DoNotOptimize(region.get_address());
        bip::shared_memory_object::remove(name.c_str());
    }
}

// ---- read16m ------------------------------------------------------------------

constexpr std::size_t read_size = 16 * mib;

FileMapping make_fixed()
{
    return FileMapping::create(unique("fixed"), read_size);
}

FileMapping make_grown()
{
    FileMapping mapping = FileMapping::create(unique("grown"), 4096, growable(read_size));
    while (mapping.size() < read_size) {
        mapping.grow(mapping.size() + 4096);
    }
    return mapping;
}

/// Both start with every page written (resident, mapped in this process).
template <FileMapping (*Make)()>
void read_span(benchmark::State& state)
{
    FileMapping mapping = Make();
    const auto words = mapping.as_span<std::uint64_t>(0, read_size / 8);
    std::iota(words.begin(), words.end(), std::uint64_t{0});
    const auto view = std::as_const(mapping).as_span<const std::uint64_t>(0, read_size / 8);
    for (auto _ : state) {
        benchmark::DoNotOptimize(std::accumulate(view.begin(), view.end(), std::uint64_t{0}));
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(read_size));
}

template <FileMapping (*Make)()>
void read_values(benchmark::State& state)
{
    FileMapping mapping = Make();
    const auto words = mapping.as_span<std::uint64_t>(0, read_size / 8);
    std::iota(words.begin(), words.end(), std::uint64_t{0});
    for (auto _ : state) {
        std::uint64_t sum = 0;
        for (std::size_t at = 0; at < read_size; at += 8) {
            sum += mapping.read_value<std::uint64_t>(at);
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(read_size));
}

} // namespace

BENCHMARK(grow_filemap)->Name("grow1m/filemap_grow")->Repetitions(5);
BENCHMARK(grow_raw)->Name("grow1m/raw_fallocate_mprotect")->Repetitions(5);
BENCHMARK(create_filemap)->Name("grow1m/filemap_create")->Repetitions(5);
BENCHMARK(create_raw)->Name("grow1m/raw_create")->Repetitions(5);
BENCHMARK(create_boost)->Name("grow1m/boost_create_sparse")->Repetitions(5);
BENCHMARK(read_span<make_fixed>)->Name("read16m/span_fixed")->Repetitions(11);
BENCHMARK(read_span<make_grown>)->Name("read16m/span_grown")->Repetitions(11);
BENCHMARK(read_values<make_fixed>)->Name("read16m/read_value_fixed")->Repetitions(11);
BENCHMARK(read_values<make_grown>)->Name("read16m/read_value_grown")->Repetitions(11);

BENCHMARK_MAIN();
