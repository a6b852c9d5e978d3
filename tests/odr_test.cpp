// tests/odr_test.cpp - a second translation unit that includes every header
// again, so a non-inline definition in a header fails to link.
#include "catch.hpp"

#include <filemap/detail/platform.hpp>
#include <filemap/error.hpp>
#include <filemap/file_mapping.hpp>
#include <filemap/filemap.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>
#include <filemap/view.hpp>

// Including filemap must not bring <windows.h> macros into the user's code.
#if defined(min) || defined(max) || defined(CreateFile) || defined(CreateFileMapping) ||           \
    defined(OpenFileMapping) || defined(near) || defined(far) || defined(ERROR)
#error "a <windows.h> macro leaked out of filemap's headers"
#endif

TEST_CASE("every header links into a second translation unit", "[odr]")
{
    filemap::FileMapping empty;
    CHECK_FALSE(empty.is_open());
    filemap::detail::Error error;
    CHECK(filemap::detail::parse_name("odr", error).base == "odr");
    CHECK_FALSE(error);
}
