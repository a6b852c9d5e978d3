// tests/main.cpp - runs the Catch2 session, or a child role when started as
// `filemap_tests --child ROLE ARGS...`; fails the run if it left objects or
// open descriptors/handles behind.
#define CATCH_CONFIG_RUNNER
#include "support.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>

namespace test {
int run_role(int argc, char** argv);
}

int main(int argc, char** argv)
{
#if defined(SIGPIPE)
    std::signal(SIGPIPE, SIG_IGN); // a child that died must fail a test, not kill the run
#endif
    if (argc >= 3 && std::strcmp(argv[1], "--child") == 0) {
        return test::run_role(argc, argv);
    }
    test::reclaim_stale();
    const std::size_t handles_before = test::open_handles();
    const int failed = Catch::Session().run(argc, argv);
    const std::size_t handles_after = test::open_handles();
    if (handles_after > handles_before) {
        std::fprintf(stderr, "left open: %zu descriptors or handles\n",
                     handles_after - handles_before);
    }
    const auto left = test::leftovers();
    for (const auto& name : left) {
        std::fprintf(stderr, "left behind in /dev/shm: %s\n", name.c_str());
        filemap::FileMapping::remove(name);
    }
    const bool clean = left.empty() && handles_after <= handles_before;
    return failed != 0 ? failed : (clean ? 0 : 1);
}
