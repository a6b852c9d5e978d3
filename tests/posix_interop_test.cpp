// tests/posix_interop_test.cpp - persistent objects are the same objects that
// Python's multiprocessing.shared_memory sees by name, both ways.
#include "support.hpp"

#include <filemap/filemap.hpp>

using filemap::FileMapping;
using filemap::Lifetime;
using filemap::Options;

namespace {

// Python registers even attached segments with its resource tracker, which
// would unlink them at exit: unregister, as a well-behaved peer does.
const std::string python_prelude = R"(
import sys
from multiprocessing import shared_memory, resource_tracker
def keep(shm):
    resource_tracker.unregister(shm._name, "shared_memory")
)";

std::string run_python(const std::string& code, const std::string& name)
{
    test::Child python = test::Child::program({"python3", "-c", python_prelude + code, name});
    const std::string line = python.read_line();
    CHECK(python.wait() == 0);
    return line;
}

} // namespace

TEST_CASE("Python reads and writes an object filemap created", "[posix_interop]")
{
    const std::string name = test::unique_name("py-read");
    Options options;
    options.lifetime = Lifetime::persistent;
    FileMapping mapping = FileMapping::create(name, 4096, options);
    mapping.write("from C++");
    CHECK(run_python(R"(
shm = shared_memory.SharedMemory(sys.argv[1])
keep(shm)
print(bytes(shm.buf[:8]).decode(), shm.size >= 4096, flush=True)
shm.buf[100:111] = b"from Python"
shm.close()
)",
                     name) == "from C++ True");
    CHECK(mapping.read_string(100).substr(0, 11) == "from Python");
    CHECK(FileMapping::remove(name));
}

TEST_CASE("filemap opens an object Python created, and does not remove it", "[posix_interop]")
{
    const std::string name = test::unique_name("py-made");
    CHECK(run_python(R"(
shm = shared_memory.SharedMemory(sys.argv[1], create=True, size=1000)
keep(shm)
shm.buf[:6] = b"hello\0"
print("made", flush=True)
shm.close()
)",
                     name) == "made");
    FileMapping mapping = FileMapping::open(name);
    CHECK(mapping.size() == 1000);
    CHECK(mapping.read_string() == "hello");
    mapping.close();
    CHECK(FileMapping::open(name).read_string() == "hello"); // still there
    CHECK(FileMapping::remove(name));
}
