// filemap/detail/platform.hpp - the one place that picks the platform port.
//
// Includes this platform's implementation of the port contract
// (detail/port.hpp) and its locks and waits; everything above uses them as
// filemap::detail::os. No other header tests a platform macro. A platform
// filemap cannot honour stops here, with the reason.
#pragma once

#if defined(_WIN32)
#include <filemap/detail/win32/port.hpp>
#include <filemap/detail/win32/sync.hpp>
#elif defined(__linux__)
#include <filemap/detail/posix/port.hpp>
#include <filemap/detail/posix/sync.hpp>
#else
// Elsewhere the scoped lifetime lacks OFD locks and /proc/self/fd, and the waits lack futexes.
#error "filemap supports Linux and Windows only"
#endif
