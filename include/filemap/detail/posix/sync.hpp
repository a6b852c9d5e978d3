// filemap/detail/posix/sync.hpp - the locks and waits of NamedMutex and Channel on Linux.
//
// ProcessMutex is robust_lock.hpp's lock: fixed-width integers in shared
// memory, owner death detected without a pointer in shared memory.
// WakeEvent is a futex on a 32-bit word. Both implement the concepts of
// detail/port.hpp, and neither keeps anything per process but a throttle.
#pragma once

#include <filemap/detail/deadline.hpp>
#include <filemap/detail/port.hpp>
#include <filemap/detail/posix/robust_lock.hpp>
#include <filemap/detail/posix/system.hpp>
#include <filemap/error.hpp>

#include <climits>
#include <cstdint>
#include <optional>
#include <string_view>

namespace filemap::detail::os {

using ProcessMutex = posix::RobustLock;

/// A futex on a 32-bit word in shared memory; nothing per process.
class WakeEvent {
public:
    static WakeEvent attach(std::string_view /*kernel_name*/, Error&) { return {}; }

    /// Blocks while `word` equals `seen`, until a wake or the deadline.
    void sleep(std::uint32_t& word, std::uint32_t seen, const Deadline& deadline) noexcept
    {
        std::optional<std::chrono::nanoseconds> timeout;
        if (deadline) {
            const auto left = *deadline - Clock::now();
            if (left <= Clock::duration::zero()) {
                return;
            }
            timeout = left;
        }
        posix::futex_wait(word, seen, timeout);
    }

    /// Wakes every sleeper on `word`.
    void wake(std::uint32_t& word) noexcept { posix::futex_wake(word, INT_MAX); }
};

static_assert(ProcessMutexPort<ProcessMutex>);
static_assert(WakeEventPort<WakeEvent>);

} // namespace filemap::detail::os
