// expect: T must be standard layout
// A T whose members differ in access has no layout another program can rely on.
#include <filemap/shared.hpp>

struct Mixed {
    int visible;

private:
    int hidden = 0;
};

int main()
{
    auto shared = filemap::Shared<Mixed>::create("never");
}
