// 09-growing-log: a log in shared memory that grows while others read it.
//
// The writer creates a growable FileMapping (4 KiB now, up to 64 MiB) and
// appends length-prefixed records to it, growing it when the next record
// does not fit. Followers read along: a Shared<Cursor> tells them how far
// the log is written (and wakes them when that changes), and refresh() maps
// what the writer grew, at the same address, so nothing they hold moves.
// The log itself keeps no header: any program may read its bytes.
//
//     09-growing-log write NAME [followers] [records]
//     09-growing-log follow NAME
#include <filemap/filemap.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <thread>

namespace {

/// How far the log is written, and who reads it.
struct Cursor {
    std::uint64_t end;       ///< bytes of whole records in the log
    std::uint32_t followers; ///< how many followers joined
    std::uint32_t done;      ///< 1 once the writer is finished
    static constexpr std::string_view type_tag = "filemap example Cursor v1";
};

constexpr std::size_t max_log = std::size_t{64} << 20;
constexpr auto patience = std::chrono::seconds(10);

/// Waits until `ready(cursor.load())`; false after `patience` of silence.
template <class Ready>
bool wait_until(filemap::Shared<Cursor>& cursor, Ready ready)
{
    for (std::uint64_t seen = cursor.version(); !ready(cursor.load()); seen = cursor.version()) {
        if (!cursor.wait_for_change(seen, patience)) {
            return false;
        }
    }
    return true;
}

int write(const std::string& name, std::uint32_t followers, int records)
{
    auto cursor = filemap::Shared<Cursor>::open_or_create(name + "-cursor");
    if (!wait_until(cursor, [&](const Cursor& now) { return now.followers >= followers; })) {
        std::puts("writer: the followers never came");
        return 1;
    }
    filemap::Options growable;
    growable.max_size = max_log;
    auto log = filemap::FileMapping::create(name, 4096, growable);
    const std::byte* const start = log.bytes().data();
    std::size_t end = 0;
    for (int i = 1; i <= records; ++i) {
        const std::string text = "record " + std::to_string(i) + ": " +
                                 std::string(200 * static_cast<std::size_t>(i), '.');
        const std::size_t next = end + sizeof(std::uint32_t) + text.size();
        if (next > log.size()) { // double, as a vector does, up to max_size
            const std::size_t grown =
                std::min(max_log, std::max<std::size_t>(next, 2 * log.size()));
            log.grow(grown);
            std::printf("writer: grew the log to %zu bytes (still at the same address: %s)\n",
                        log.size(), log.bytes().data() == start ? "yes" : "no");
        }
        log.write_value(static_cast<std::uint32_t>(text.size()), end);
        log.write(std::span(text.data(), text.size()), end + sizeof(std::uint32_t));
        end = next;
        auto guard = cursor.lock(); // followers see the record when the guard ends
        guard->end = end;
        guard->done = i == records ? 1 : 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(5)); // the next record's work
    }
    std::printf("writer: %d records, %llu bytes\n", records, static_cast<unsigned long long>(end));
    return 0;
}

int follow(const std::string& name)
{
    auto cursor = filemap::Shared<Cursor>::open_or_create(name + "-cursor");
    {
        auto guard = cursor.lock();
        ++guard->followers;
    }
    if (!wait_until(cursor, [](const Cursor& now) { return now.end > 0; })) {
        std::puts("follower: the writer never wrote");
        return 1;
    }
    auto log = filemap::FileMapping::open(name, filemap::Access::read_only);
    const std::byte* const start = log.bytes().data();
    std::size_t read = 0;
    int records = 0;
    int refreshes = 0;
    for (;;) {
        const Cursor now = cursor.load();
        if (now.end > log.size()) {
            log.refresh(); // map what the writer grew
            ++refreshes;
        }
        while (read < now.end) {
            const auto length = log.read_value<std::uint32_t>(read);
            ++records;
            read += sizeof(std::uint32_t) + length;
        }
        if (now.done != 0) {
            std::printf("follower: read %d records, %llu bytes; %d refreshes mapped %zu bytes at"
                        " the address it opened at: %s\n",
                        records, static_cast<unsigned long long>(read), refreshes, log.size(),
                        log.bytes().data() == start ? "yes" : "no");
            return 0;
        }
        if (!wait_until(cursor, [&](const Cursor& next) { return next.end > read || next.done; })) {
            std::puts("follower: no news for 10 s");
            return 1;
        }
    }
}

} // namespace

int main(int argc, char** argv)
{
    const std::string role = argc > 2 ? argv[1] : "";
    try {
        if (role == "write") {
            const auto followers = argc > 3 ? static_cast<std::uint32_t>(std::atoi(argv[3])) : 1;
            return write(argv[2], followers, argc > 4 ? std::atoi(argv[4]) : 40);
        }
        if (role == "follow") {
            return follow(argv[2]);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    std::fputs("usage: 09-growing-log write NAME [followers] [records] | follow NAME\n", stderr);
    return 2;
}
