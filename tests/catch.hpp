// tests/catch.hpp - Catch2 v3 when that is what was found, else v2's single header.
#pragma once

#if defined(FILEMAP_CATCH3)
#include <catch2/catch_session.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#else
#include <catch2/catch.hpp>
#endif
