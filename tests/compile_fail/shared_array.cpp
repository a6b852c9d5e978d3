// expect: T is a plain class or scalar type
// load() cannot return an array: wrap it in a struct.
#include <filemap/shared.hpp>

int main()
{
    auto shared = filemap::Shared<int[4]>::open("never");
}
