// filemap/detail/steps.hpp - failure-injection points between system calls.
//
// FILEMAP_STEP(step::create_sized) marks a point where a process may die and
// leave shared state behind. filemap's own tests define FILEMAP_TEST_HOOKS
// and kill a child at each step in turn, then check that the next user is
// neither blocked nor misled. In every other build a step is nothing at all.
// The step names are constants here, so the library and the tests that
// name them cannot drift apart.
#pragma once

namespace filemap::detail::step {

// Creating a named object (POSIX naming protocol): made unnamed, sized, linked.
inline constexpr const char* create_object_made = "create: object made";
inline constexpr const char* create_sized = "create: sized";
inline constexpr const char* create_linked = "create: linked";
// Opening one.
inline constexpr const char* open_object_opened = "open: object opened";
inline constexpr const char* open_holder_taken = "open: holder taken";
// Closing one.
inline constexpr const char* close_alone = "close: alone";
inline constexpr const char* close_unlinked = "close: unlinked";
inline constexpr const char* close_holder_released = "close: holder released";
// Finding and reclaiming a stale one.
inline constexpr const char* reclaim_locked = "reclaim: stale object locked";
inline constexpr const char* reclaim_unlinked = "reclaim: stale object unlinked";
// Building a NamedMutex, Channel or Shared<T> block, before it is published.
inline constexpr const char* block_built = "block: built, not yet published";

// A lock and a Channel, where a death strands the others: a holder not yet
// recorded, sleepers not yet woken.
inline constexpr const char* lock_taken = "lock: taken, holder not yet recorded";
inline constexpr const char* unlock_released = "unlock: released, sleepers not yet woken";
inline constexpr const char* send_published = "send: published, receivers not yet woken";
inline constexpr const char* receive_freed = "receive: room freed, senders not yet woken";
// A Shared<T> writer: the new value copied, its version not yet published.
inline constexpr const char* snapshot_copied = "snapshot: copied, version not yet published";

} // namespace filemap::detail::step

#if defined(FILEMAP_TEST_HOOKS)
namespace filemap::detail {

/// Called at every step with its name; set by the tests only.
inline void (*step_hook)(const char* step) = nullptr;

inline void reach_step(const char* name)
{
    if (step_hook != nullptr) {
        step_hook(name);
    }
}

} // namespace filemap::detail
#define FILEMAP_STEP(name) ::filemap::detail::reach_step(::filemap::detail::step::name)
#else
#define FILEMAP_STEP(name) static_cast<void>(0)
#endif
