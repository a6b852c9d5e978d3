# Toolchain: Windows x86-64 programs from Linux with Debian's MinGW-w64
# (g++-mingw-w64-x86-64-posix), run by Wine (CMAKE_CROSSCOMPILING_EMULATOR),
# so `ctest` runs the Windows test binary for real. GSL and Catch2 are
# header-only: cmake/mingw-w64/ holds package configs that expose Debian's
# headers to the cross build without putting the rest of /usr/include (glibc's
# headers) on its include path. cmake/mingw-w64-i686.cmake includes this file
# for 32-bit Windows (built and linked; Wine runs 64-bit programs only here).
if(NOT FILEMAP_MINGW_ARCH)
    set(FILEMAP_MINGW_ARCH x86_64)
endif()
set(triple ${FILEMAP_MINGW_ARCH}-w64-mingw32)
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR ${FILEMAP_MINGW_ARCH})
set(CMAKE_C_COMPILER ${triple}-gcc-posix)
set(CMAKE_CXX_COMPILER ${triple}-g++-posix)
set(CMAKE_RC_COMPILER ${triple}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${triple} ${CMAKE_CURRENT_LIST_DIR}/mingw-w64)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static runtime: Wine then needs no MinGW DLLs on its path.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

if(FILEMAP_MINGW_ARCH STREQUAL "x86_64")
    find_program(FILEMAP_WINE NAMES wine wine64 REQUIRED)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${FILEMAP_WINE})
endif()
