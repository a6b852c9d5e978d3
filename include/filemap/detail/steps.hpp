// filemap/detail/steps.hpp - failure-injection points between system calls.
//
// FILEMAP_STEP("create: sized") marks a point where a process may die and
// leave shared state behind. filemap's own tests define FILEMAP_TEST_HOOKS
// and kill a child at each step in turn, then check that the next user is
// neither blocked nor misled. In every other build a step is nothing at all.
#pragma once

#if defined(FILEMAP_TEST_HOOKS)
namespace filemap::detail {

/// Called at every step with its name; set by the tests only.
inline void (*step_hook)(const char* step) = nullptr;

inline void step(const char* name)
{
    if (step_hook != nullptr) {
        step_hook(name);
    }
}

} // namespace filemap::detail
#define FILEMAP_STEP(name) ::filemap::detail::step(name)
#else
#define FILEMAP_STEP(name) static_cast<void>(0)
#endif
