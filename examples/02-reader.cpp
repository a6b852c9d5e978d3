// 02-reader: the second of two programs sharing memory by name.
//
// Opens the object 01-writer created (open never creates one by mistake),
// prints the message, and answers through the same memory.
//
//     02-reader [name]
#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

int main(int argc, char** argv)
{
    const std::string name = argc > 1 ? argv[1] : "filemap-demo";
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
    const std::string message = shared.read_string();
    std::printf("reader: read \"%s\" from \"%s\" (%zu bytes)\n", message.c_str(), name.c_str(),
                shared.size());
    shared.write("got it: " + std::to_string(message.size()) + " characters", 128);
    return 0;
}
