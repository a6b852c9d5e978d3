// 02-reader: the second of two programs sharing memory by name.
//
// Opens the object 01-writer created (open never creates one by mistake),
// prints the message, and answers through the same memory.
//
//     02-reader [--wide] [name]
//
// --wide reads UTF-16 text, as a UNICODE Windows program writes it
// (Microsoft's "Creating Named Shared Memory" sample: run its server with
// the same name, e.g. Global\MyFileMappingObject, and this reads it).
#include "text.hpp"

#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

int main(int argc, char** argv)
{
    const bool wide = argc > 1 && std::strcmp(argv[1], "--wide") == 0;
    const int first = wide ? 2 : 1;
    const std::string name = argc > first ? argv[first] : "filemap-demo";
    std::error_code ec;
    filemap::FileMapping shared;
    // The writer may still be starting: try for a few seconds.
    for (int tick = 0; tick < 500 && !shared; ++tick) {
        shared = filemap::FileMapping::open(name, ec);
        if (ec && ec != std::errc::no_such_file_or_directory) {
            break;
        }
        if (!shared) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    if (!shared) {
        std::fprintf(stderr, "reader: cannot open \"%s\": %s\n", name.c_str(),
                     ec.message().c_str());
        return 1;
    }
    const std::string message =
        wide ? example::to_utf8(shared.read_u16string()) : shared.read_string();
    std::printf("reader: read \"%s\" from \"%s\" (%zu bytes%s)\n", message.c_str(), name.c_str(),
                shared.size(), wide ? ", UTF-16" : "");
    const std::string answer = "got it: " + std::to_string(message.size()) + " bytes of UTF-8";
    if (wide) {
        shared.write(std::u16string_view(example::to_utf16(answer)), 128);
    } else {
        shared.write(answer, 128);
    }
    return 0;
}
