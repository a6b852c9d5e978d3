// filemap/detail/atomic64.hpp - atomic access to a 64-bit word, inline in 32-bit builds too.
//
// std::atomic_ref<std::uint64_t> built by clang -m32 calls libatomic: the
// type's alignment there is 4, so the compiler cannot assume the 8 that
// cmpxchg8b needs. A 32-bit program may not link libatomic, and a lock
// inside it would not exclude another process. Every 64-bit word filemap
// shares is aligned to 8 (its layouts say alignas(8) and static_assert the
// offsets); Atomic64 tells the compiler so. Platform-free; the compiler
// picks the builtins.
#pragma once

#include <atomic>
#include <cstdint>

namespace filemap::detail {

/// A 64-bit word the compiler knows to be 8-aligned (a typedef with an
/// alignment attribute does not tell clang so; a member of an aligned struct
/// does).
struct alignas(8) Aligned64 {
    std::uint64_t value;
};

/// An atomic view of an 8-aligned std::uint64_t, as std::atomic_ref.
class Atomic64 {
public:
    explicit Atomic64(std::uint64_t& word) noexcept : word_(&word) {}

    std::uint64_t load(std::memory_order order) const noexcept
    {
#if defined(__GNUC__)
        return __atomic_load_n(&reinterpret_cast<Aligned64*>(word_)->value,
                               static_cast<int>(order));
#else
        return std::atomic_ref<std::uint64_t>(*word_).load(order);
#endif
    }

    void store(std::uint64_t value, std::memory_order order) noexcept
    {
#if defined(__GNUC__)
        __atomic_store_n(&reinterpret_cast<Aligned64*>(word_)->value, value,
                         static_cast<int>(order));
#else
        std::atomic_ref<std::uint64_t>(*word_).store(value, order);
#endif
    }

    bool compare_exchange_strong(std::uint64_t& expected, std::uint64_t desired,
                                 std::memory_order success, std::memory_order failure) noexcept
    {
#if defined(__GNUC__)
        return __atomic_compare_exchange_n(&reinterpret_cast<Aligned64*>(word_)->value, &expected,
                                           desired, false, static_cast<int>(success),
                                           static_cast<int>(failure));
#else
        return std::atomic_ref<std::uint64_t>(*word_).compare_exchange_strong(expected, desired,
                                                                              success, failure);
#endif
    }

private:
    std::uint64_t* word_;
};

} // namespace filemap::detail
