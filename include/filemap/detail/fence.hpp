// filemap/detail/fence.hpp - the one memory fence filemap needs, and what ThreadSanitizer sees
// instead.
//
// A Topic that drops the oldest messages lends its publisher room that
// subscribers may be reading at that very moment, and the publisher (the
// user's code, through a Loan) writes it with plain stores. What keeps a
// subscriber from taking such bytes as a whole message is that they become
// visible only after the publisher announced them (Topic's `reserve`): a
// release fence between the announcement and the stores. Everything else
// filemap shares is ordered by the atomic operations themselves.
//
// ThreadSanitizer models no fences, and g++ refuses to build one under it
// (-Wtsan). Its builds run on x86-64, where a release fence is no
// instruction but an order the compiler must keep: a signal fence keeps it.
// Platform-free.
#pragma once

#include <atomic>

#if defined(__SANITIZE_THREAD__)
#define FILEMAP_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FILEMAP_DETAIL_TSAN 1
#endif
#endif

namespace filemap::detail {

/// Orders every store before it ahead of every store after it, as seen by
/// other processes.
inline void release_fence() noexcept
{
#if defined(FILEMAP_DETAIL_TSAN)
    std::atomic_signal_fence(std::memory_order_release);
#else
    std::atomic_thread_fence(std::memory_order_release);
#endif
}

} // namespace filemap::detail
