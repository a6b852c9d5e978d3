// mapping_bench: FileMapping against the raw system calls it wraps (the
// floor) and Boost.Interprocess shared_memory_object + mapped_region, in one run.
//
//   lifecycle/*    create + map + write a byte + close (+ remove), 4 KiB, sparse
//   open/*         open an existing 4 KiB object + map + read a byte + close
//   copy64m/*      64 MiB through the typed API vs memcpy into the same mapping
//   touch256m/*    create 256 MiB and touch every page: reserve and prefault
//   create256m/*   create 256 MiB without touching it: what reserve costs
//   taken/*        create where a live object has the name (file_exists)
//   size/*         create + touch + close, 4 KiB to 1 GiB
#include <filemap/filemap.hpp>

#include <benchmark/benchmark.h>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace bip = boost::interprocess;
using filemap::FileMapping;

constexpr std::size_t small = 4096;

std::string unique(const std::string& what)
{
    return "fmb-" + std::to_string(::getpid()) + "-" + what;
}

filemap::Options options(filemap::Lifetime lifetime, bool reserve = false, bool prefault = false)
{
    filemap::Options o;
    o.lifetime = lifetime;
    o.reserve = reserve;
    o.prefault = prefault;
    return o;
}

/// Writes one byte per page, as a first use of fresh memory does.
void touch(std::byte* data, std::size_t size)
{
    for (std::size_t at = 0; at < size; at += 4096) {
        data[at] = std::byte{1};
    }
    benchmark::ClobberMemory();
}

// ---- lifecycle -----------------------------------------------------------

void lifecycle_raw(benchmark::State& state)
{
    const std::string name =
        std::string(1, '/').append(unique("raw")); // not "/" + ...: GCC 12 warns (-Wrestrict)
    for (auto _ : state) {
        const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ::ftruncate(fd, small) != 0) {
            state.SkipWithError("shm_open");
            break;
        }
        void* data = ::mmap(nullptr, small, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        static_cast<char*>(data)[0] = 1;
        ::munmap(data, small);
        ::close(fd);
        ::shm_unlink(name.c_str());
    }
}

void lifecycle_filemap(benchmark::State& state, filemap::Lifetime lifetime)
{
    const std::string name = unique("filemap");
    for (auto _ : state) {
        FileMapping mapping = FileMapping::create(name, small, options(lifetime));
        mapping.bytes()[0] = std::byte{1};
        mapping.close();
        if (lifetime == filemap::Lifetime::persistent) {
            FileMapping::remove(name);
        }
    }
}

void lifecycle_boost(benchmark::State& state)
{
    const std::string name = unique("boost");
    for (auto _ : state) {
        {
            bip::shared_memory_object object(bip::create_only, name.c_str(), bip::read_write);
            object.truncate(small);
            bip::mapped_region region(object, bip::read_write);
            static_cast<char*>(region.get_address())[0] = 1;
        }
        bip::shared_memory_object::remove(name.c_str());
    }
}

// ---- open an existing object -----------------------------------------------

void open_raw(benchmark::State& state)
{
    const std::string name = unique("open-raw");
    FileMapping keep = FileMapping::create(name, small, options(filemap::Lifetime::persistent));
    const std::string os_name = "/" + name;
    for (auto _ : state) {
        const int fd = ::shm_open(os_name.c_str(), O_RDWR | O_CLOEXEC, 0);
        struct stat st {};
        ::fstat(fd, &st);
        void* data = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE,
                            MAP_SHARED, fd, 0);
        benchmark::DoNotOptimize(static_cast<char*>(data)[0]);
        ::munmap(data, static_cast<std::size_t>(st.st_size));
        ::close(fd);
    }
    FileMapping::remove(name);
}

void open_filemap(benchmark::State& state, filemap::Lifetime lifetime)
{
    const std::string name = unique("open-filemap");
    FileMapping keep = FileMapping::create(name, small, options(lifetime));
    for (auto _ : state) {
        FileMapping mapping = FileMapping::open(name);
        benchmark::DoNotOptimize(mapping.bytes()[0]);
    }
    keep.close();
    if (lifetime == filemap::Lifetime::persistent) {
        FileMapping::remove(name);
    }
}

// ---- create where the name is taken: the refusal's cost ----------------------

void taken_raw(benchmark::State& state)
{
    const std::string name = unique("taken-raw");
    FileMapping keep = FileMapping::create(name, small, options(filemap::Lifetime::persistent));
    const std::string os_name = std::string(1, '/').append(name);
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            ::shm_open(os_name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    }
    FileMapping::remove(name);
}

/// filemap makes (unnamed) before it learns the name is taken, then tests the
/// existing object: live holders are seen at once, never waited for.
void taken_filemap(benchmark::State& state, filemap::Lifetime lifetime)
{
    const std::string name = unique("taken-filemap");
    FileMapping keep = FileMapping::create(name, small, options(lifetime));
    for (auto _ : state) {
        std::error_code ec;
        benchmark::DoNotOptimize(FileMapping::create(name, small, options(lifetime), ec));
        if (ec != std::errc::file_exists) {
            state.SkipWithError("expected file_exists");
            break;
        }
    }
    keep.close();
    if (lifetime == filemap::Lifetime::persistent) {
        FileMapping::remove(name);
    }
}

void open_boost(benchmark::State& state)
{
    const std::string name = unique("open-boost");
    FileMapping keep = FileMapping::create(name, small, options(filemap::Lifetime::persistent));
    for (auto _ : state) {
        bip::shared_memory_object object(bip::open_only, name.c_str(), bip::read_write);
        bip::mapped_region region(object, bip::read_write);
        benchmark::DoNotOptimize(static_cast<char*>(region.get_address())[0]);
    }
    FileMapping::remove(name);
}

// ---- 64 MiB copies -------------------------------------------------------

constexpr std::size_t big = 64u << 20;

template <class Copy>
void copy64m(benchmark::State& state, Copy copy)
{
    FileMapping mapping =
        FileMapping::create(unique("copy"), big, options(filemap::Lifetime::scoped, true, true));
    std::vector<std::byte> buffer(big, std::byte{3});
    for (auto _ : state) {
        copy(mapping, buffer);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(big));
}

void copy64m_memcpy_in(benchmark::State& state)
{
    copy64m(state, [](FileMapping& m, std::vector<std::byte>& b) {
        std::memcpy(m.bytes().data(), b.data(), big);
    });
}

void copy64m_filemap_write(benchmark::State& state)
{
    copy64m(state, [](FileMapping& m, std::vector<std::byte>& b) { m.write(b); });
}

void copy64m_memcpy_out(benchmark::State& state)
{
    copy64m(state, [](FileMapping& m, std::vector<std::byte>& b) {
        std::memcpy(b.data(), m.bytes().data(), big);
    });
}

void copy64m_filemap_read(benchmark::State& state)
{
    copy64m(state, [](FileMapping& m, std::vector<std::byte>& b) { m.read(b); });
}

// ---- first touch, reserve, and growth with size ----------------------------

void touch256m(benchmark::State& state)
{
    const bool reserve = state.range(0) != 0;
    const bool prefault = state.range(1) != 0;
    const std::size_t size = 256u << 20;
    const std::string name = unique("touch");
    for (auto _ : state) {
        FileMapping mapping =
            FileMapping::create(name, size, options(filemap::Lifetime::scoped, reserve, prefault));
        touch(mapping.bytes().data(), size);
    }
}

void touch256m_huge_pages(benchmark::State& state)
{
    const std::size_t size = 256u << 20;
    const std::string name = unique("huge");
    filemap::Options o = options(filemap::Lifetime::scoped, true, false);
    o.huge_pages = true; // effective only where shmem_enabled allows madvise
    for (auto _ : state) {
        FileMapping mapping = FileMapping::create(name, size, o);
        touch(mapping.bytes().data(), size);
    }
}

void create256m(benchmark::State& state)
{
    const bool reserve = state.range(0) != 0;
    const std::string name = unique("create");
    for (auto _ : state) {
        FileMapping mapping =
            FileMapping::create(name, 256u << 20, options(filemap::Lifetime::scoped, reserve));
        benchmark::DoNotOptimize(mapping.size());
    }
}

void size_scaling(benchmark::State& state)
{
    const auto size = static_cast<std::size_t>(state.range(0));
    const std::string name = unique("size");
    for (auto _ : state) {
        FileMapping mapping = FileMapping::create(name, size, options(filemap::Lifetime::scoped));
        touch(mapping.bytes().data(), size);
    }
    state.SetBytesProcessed(state.iterations() * state.range(0));
}

} // namespace

BENCHMARK(lifecycle_raw)->Name("lifecycle/raw_calls")->Repetitions(5);
BENCHMARK_CAPTURE(lifecycle_filemap, persistent, filemap::Lifetime::persistent)
    ->Name("lifecycle/filemap_persistent")
    ->Repetitions(5);
BENCHMARK_CAPTURE(lifecycle_filemap, scoped, filemap::Lifetime::scoped)
    ->Name("lifecycle/filemap_scoped")
    ->Repetitions(5);
BENCHMARK(lifecycle_boost)->Name("lifecycle/boost_interprocess")->Repetitions(5);
BENCHMARK(open_raw)->Name("open/raw_calls")->Repetitions(5);
BENCHMARK_CAPTURE(open_filemap, persistent, filemap::Lifetime::persistent)
    ->Name("open/filemap_persistent")
    ->Repetitions(5);
BENCHMARK_CAPTURE(open_filemap, scoped, filemap::Lifetime::scoped)
    ->Name("open/filemap_scoped")
    ->Repetitions(5);
BENCHMARK(open_boost)->Name("open/boost_interprocess")->Repetitions(5);
BENCHMARK(taken_raw)->Name("taken/raw_calls")->Repetitions(5);
BENCHMARK_CAPTURE(taken_filemap, persistent, filemap::Lifetime::persistent)
    ->Name("taken/filemap_persistent")
    ->Repetitions(5);
BENCHMARK_CAPTURE(taken_filemap, scoped, filemap::Lifetime::scoped)
    ->Name("taken/filemap_scoped")
    ->Repetitions(5);
BENCHMARK(copy64m_memcpy_in)->Name("copy64m/memcpy_in")->Repetitions(3);
BENCHMARK(copy64m_filemap_write)->Name("copy64m/filemap_write")->Repetitions(3);
BENCHMARK(copy64m_memcpy_out)->Name("copy64m/memcpy_out")->Repetitions(3);
BENCHMARK(copy64m_filemap_read)->Name("copy64m/filemap_read")->Repetitions(3);
BENCHMARK(touch256m)
    ->Name("touch256m")
    ->ArgNames({"reserve", "prefault"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Iterations(3)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(touch256m_huge_pages)
    ->Name("touch256m/huge_pages")
    ->Iterations(3)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(create256m)
    ->Name("create256m")
    ->ArgName("reserve")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(3)
    ->Repetitions(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(size_scaling)
    ->Name("size")
    ->RangeMultiplier(16)
    ->Range(4096, 1 << 30)
    ->Iterations(2)
    ->Repetitions(3)
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
