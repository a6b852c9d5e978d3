// filemap/detail/snapshot.hpp - a value for readers that never lock: two copies and a version.
//
// Shared<T>::load() must never see a half-written value and never hold up
// the writer, and a writer may die at any instruction. The value lives in
// two copies; the 64-bit version word says which one is current (version
// & 1). A writer (one at a time: it holds the object's lock) copies the new
// value into the other copy, then publishes it by bumping the version. A
// reader reads the version, copies the current copy out, and reads the
// version again: if it moved, a writer may have overwritten what it read
// (two publications reuse a copy), and it tries again.
//
// Every shared word is read and written atomically, a machine word at a
// time: the writer's stores are releases and the reader's loads acquires
// (plain moves on x86), so a reader that sees any byte of a newer value also
// sees the version that announced the copy reuse, with no fence and nothing
// ThreadSanitizer must be told to ignore. A writer that dies before it
// publishes leaves the current copy whole; one that dies after publishing
// left a whole value. Platform-free.
#pragma once

#include <filemap/detail/atomic64.hpp>
#include <filemap/detail/steps.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace filemap::detail {

/// What a copy is moved in: a machine word (4 bytes in 32-bit processes,
/// which have no 8-byte atomic move but cmpxchg8b).
using CopyWord = std::uintptr_t;

/// Copies `size` bytes of shared `from` (CopyWord-aligned, padded to whole
/// words) to private `to`, a word at a time, each an acquire load.
inline void load_words(std::byte* to, std::byte* from, std::size_t size) noexcept
{
    auto* words = reinterpret_cast<CopyWord*>(from);
    const std::size_t whole = size / sizeof(CopyWord);
#pragma GCC unroll 16
    for (std::size_t i = 0; i < whole; ++i) {
        const CopyWord word = std::atomic_ref<CopyWord>(words[i]).load(std::memory_order_acquire);
        std::memcpy(to + i * sizeof(CopyWord), &word, sizeof(CopyWord));
    }
    if (const std::size_t rest = size % sizeof(CopyWord); rest != 0) {
        const CopyWord word =
            std::atomic_ref<CopyWord>(words[whole]).load(std::memory_order_acquire);
        std::memcpy(to + whole * sizeof(CopyWord), &word, rest);
    }
}

/// Copies `size` bytes of private `from` to shared `to` (CopyWord-aligned,
/// padded to whole words, the padding zeroed), a word at a time, each a
/// release store.
inline void store_words(std::byte* to, const std::byte* from, std::size_t size) noexcept
{
    auto* words = reinterpret_cast<CopyWord*>(to);
    const std::size_t whole = size / sizeof(CopyWord);
#pragma GCC unroll 16
    for (std::size_t i = 0; i < whole; ++i) {
        CopyWord word;
        std::memcpy(&word, from + i * sizeof(CopyWord), sizeof(CopyWord));
        std::atomic_ref<CopyWord>(words[i]).store(word, std::memory_order_release);
    }
    if (const std::size_t rest = size % sizeof(CopyWord); rest != 0) {
        CopyWord word = 0;
        std::memcpy(&word, from + whole * sizeof(CopyWord), rest);
        std::atomic_ref<CopyWord>(words[whole]).store(word, std::memory_order_release);
    }
}

/// A value of `size` bytes in two copies `stride` bytes apart from `copies`,
/// current one named by `version`: all three in shared memory.
class Snapshot {
public:
    Snapshot(std::uint64_t& version, std::byte* copies, std::size_t stride,
             std::size_t size) noexcept
        : version_(&version), copies_(copies), stride_(stride), size_(size)
    {
    }

    /// The version of the current copy.
    std::uint64_t version() const noexcept
    {
        return Atomic64(*version_).load(std::memory_order_acquire);
    }

    /// The current copy: for its writer only (the caller holds the lock).
    const std::byte* current() const noexcept { return copy(version()); }

    /// Makes `value` the current value. Writers take turns (the caller holds
    /// the lock, whose acquisition orders it after the previous writer).
    void publish(const std::byte* value) noexcept
    {
        const std::uint64_t now = version();
        store_words(copy(now + 1), value, size_);
        FILEMAP_STEP(snapshot_copied);
        Atomic64(*version_).store(now + 1, std::memory_order_release);
    }

    /// Tries once to copy the current value to `to`: false if a writer
    /// overwrote the copy meanwhile (what `to` holds is then to be dropped).
    bool try_read(std::byte* to) const noexcept
    {
        const std::uint64_t before = version();
        load_words(to, copy(before), size_);
        return version() == before;
    }

private:
    std::byte* copy(std::uint64_t version) const noexcept
    {
        return copies_ + static_cast<std::size_t>(version & 1) * stride_;
    }

    std::uint64_t* version_;
    std::byte* copies_;
    std::size_t stride_;
    std::size_t size_;
};

} // namespace filemap::detail
