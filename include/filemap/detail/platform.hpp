// filemap/detail/platform.hpp - picks the one system-call header for this platform.
//
// Both headers expose the same names in filemap::detail; nothing outside
// detail/ ever tests a platform macro.
#pragma once

#if defined(_WIN32)
#include <filemap/detail/win32.hpp>
#elif defined(__unix__) || defined(__APPLE__)
#include <filemap/detail/posix.hpp>
#else
#error "filemap supports POSIX systems and Windows"
#endif
