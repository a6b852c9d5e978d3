// expect: type_tag is longer than 64 bytes
#include <filemap/shared.hpp>

#include <string_view>

struct Verbose {
    int value;
    static constexpr std::string_view type_tag =
        "a type tag that goes on and on, longer than the sixty-four bytes the header holds";
};

int main()
{
    auto shared = filemap::Shared<Verbose>::open("never");
}
