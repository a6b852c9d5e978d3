// filemap/detail/ring.hpp - the record ring of Channel and Topic: whole records, never split.
//
// A ring is `size` bytes of shared memory (a multiple of 16) addressed by
// absolute positions, 64-bit counts of the bytes ever written, so a
// position's place in the ring is `at % size`. A record is a 16-byte header,
// [u32 length][u32 0][u64 sequence], then its payload, padded to 16 bytes:
// the payload is contiguous and 16-byte aligned, so it can be built and
// read in place. A record that would cross the end of the ring is preceded
// by a wrap marker (a length of 0xFFFFFFFF) that fills the ring to its end.
// A ring holds two of the largest records (2 * record_size(capacity)): then
// a drained ring always has room for a marker and any record, and a record
// that starts the ring again never covers a marker still to be read (the
// room a writer waits for ends before it).
//
// Whoever maps the ring may write any bytes into it. look() reads a header
// once and checks it against what the caller knows privately (the ring's
// size, the largest payload, how many bytes are published) before anything
// uses it. Platform-free.
#pragma once

#include <filemap/detail/atomic64.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace filemap::detail {

/// The header of every record; the payload follows it.
struct RecordHeader {
    std::uint32_t length;   ///< payload bytes, or wrap_marker
    std::uint32_t reserved; ///< 0
    std::uint64_t sequence; ///< the record's number (Topic), 0 (Channel)
};
static_assert(sizeof(RecordHeader) == 16);

/// The length that says "the rest of the ring is skipped".
inline constexpr std::uint32_t wrap_marker = 0xFFFFFFFF;

/// The bytes a record with `length` payload bytes takes in the ring.
constexpr std::uint64_t record_size(std::uint64_t length) noexcept
{
    return (sizeof(RecordHeader) + length + 15) & ~std::uint64_t{15};
}

/// What look() found at a position.
struct Record {
    enum class Kind { message, wrap, corrupt };
    Kind kind = Kind::corrupt;
    std::uint32_t length = 0;   ///< payload bytes (message)
    std::uint64_t sequence = 0; ///< as its writer numbered it (message)
    std::uint64_t size = 0;     ///< bytes from its position to the next record
};

/// A ring in shared memory, as this process checked it: `size` bytes from
/// `base`. Holds no state of its own.
class Ring {
public:
    Ring() noexcept = default;
    Ring(std::byte* base, std::uint64_t size) noexcept : base_(base), size_(size) {}

    std::uint64_t size() const noexcept { return size_; }

    /// Whether a record can start at `at`: only 16-byte boundaries can
    /// (positions come from shared memory: a peer may have written any).
    static bool aligned(std::uint64_t at) noexcept { return at % 16 == 0; }

    /// The bytes to skip (with a wrap marker) before a record of `need`
    /// bytes can start whole at `at`: 0 if it fits before the end.
    std::uint64_t skip_before(std::uint64_t at, std::uint64_t need) const noexcept
    {
        const std::uint64_t left = size_ - offset(at);
        return need <= left ? 0 : left;
    }

    /// The payload of the record at `at` (which fits before the end).
    std::byte* payload(std::uint64_t at) const noexcept
    {
        return base_ + offset(at) + sizeof(RecordHeader);
    }

    /// Writes a wrap marker at `at`.
    void mark_wrap(std::uint64_t at) const noexcept { store_length(at, wrap_marker); }

    /// Writes the header of a record of `length` payload bytes at `at`.
    void write_header(std::uint64_t at, std::uint32_t length, std::uint64_t sequence) const noexcept
    {
        auto* header = reinterpret_cast<RecordHeader*>(base_ + offset(at));
        Atomic64(header->sequence).store(sequence, std::memory_order_relaxed);
        std::atomic_ref<std::uint32_t>(header->reserved).store(0, std::memory_order_relaxed);
        store_length(at, length);
    }

    /// Reads the header at `at` once (acquire loads: a reader that checks
    /// afterwards whether a writer has passed `at` sees every writer whose
    /// bytes it read) and checks it: a message no longer
    /// than `capacity` that ends within the ring and within the `published`
    /// bytes after `at`, or a wrap marker that does; anything else is corrupt.
    Record look(std::uint64_t at, std::uint64_t published, std::uint64_t capacity) const noexcept
    {
        Record found;
        if (!aligned(at)) {
            return found; // corrupt
        }
        auto* header = reinterpret_cast<RecordHeader*>(base_ + offset(at));
        found.length =
            std::atomic_ref<std::uint32_t>(header->length).load(std::memory_order_acquire);
        if (found.length == wrap_marker) {
            found.size = size_ - offset(at);
            found.kind = offset(at) != 0 && found.size <= published ? Record::Kind::wrap
                                                                    : Record::Kind::corrupt;
            return found;
        }
        found.sequence = Atomic64(header->sequence).load(std::memory_order_acquire);
        found.size = record_size(found.length);
        found.kind =
            found.length <= capacity && offset(at) + found.size <= size_ && found.size <= published
                ? Record::Kind::message
                : Record::Kind::corrupt;
        return found;
    }

private:
    std::uint64_t offset(std::uint64_t at) const noexcept { return at % size_; }

    void store_length(std::uint64_t at, std::uint32_t length) const noexcept
    {
        auto* header = reinterpret_cast<RecordHeader*>(base_ + offset(at));
        std::atomic_ref<std::uint32_t>(header->length).store(length, std::memory_order_relaxed);
    }

    std::byte* base_ = nullptr;
    std::uint64_t size_ = 0;
};

} // namespace filemap::detail
