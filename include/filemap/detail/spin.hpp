// filemap/detail/spin.hpp - the pause instruction a busy-wait runs between looks.
//
// Platform-free: the compiler, not the system, decides the instruction.
#pragma once

#if defined(_MSC_VER)
#include <intrin.h>
#endif

namespace filemap::detail {

/// Tells the CPU that this is a spin-wait (x86 PAUSE, ARM YIELD).
inline void spin_pause() noexcept
{
#if defined(_MSC_VER)
    _mm_pause();
#elif defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

} // namespace filemap::detail
