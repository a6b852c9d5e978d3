# Toolchain: 32-bit Windows programs with Debian's MinGW-w64
# (g++-mingw-w64-i686-posix). Built and linked in CI, which proves filemap's
# Win32 declarations match <windows.h> for x86 (stdcall names, SIZE_T), but
# not run: 32-bit Wine does not install reliably on these machines.
set(FILEMAP_MINGW_ARCH i686)
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64.cmake)
