# Microsoft.GSL for the MinGW-w64 cross build: Debian's GSL headers, alone.
include(${CMAKE_CURRENT_LIST_DIR}/../header-only.cmake)
filemap_header_only_target(Microsoft.GSL::GSL gsl)
