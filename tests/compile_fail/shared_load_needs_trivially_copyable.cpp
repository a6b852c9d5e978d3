// expect: copyable_by_bytes
// load() and store() copy T's bytes: a T with atomics is shared through lock() only.
#include <filemap/shared.hpp>

#include <atomic>

struct Live {
    std::atomic<int> count;
};

int main()
{
    auto shared = filemap::Shared<Live>::open("never");
    return shared.load().count;
}
