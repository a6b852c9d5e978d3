# Catch2 for the MinGW-w64 cross build: Debian's Catch2 v2 header, alone.
include(${CMAKE_CURRENT_LIST_DIR}/../header-only.cmake)
filemap_header_only_target(Catch2::Catch2 catch2)
set(Catch2_VERSION 2.13)
