// expect: T must be trivially destructible
// No process destroys a shared T, so a destructor would never run.
#include <filemap/shared.hpp>

struct Owning {
    int value;
    ~Owning() { value = 0; }
};

int main()
{
    auto shared = filemap::Shared<Owning>::open("never");
}
