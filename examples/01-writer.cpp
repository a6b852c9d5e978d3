// 01-writer: the first of two programs sharing memory by name.
//
// Creates a named object, writes a message into it, and keeps it alive until
// 02-reader (another process) has read it and answered. Run it, then run
// 02-reader with the same name in a second terminal.
//
//     01-writer [name] [message]
#include <filemap/filemap.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

int main(int argc, char** argv)
{
    const std::string name = argc > 1 ? argv[1] : "filemap-demo";
    const std::string message = argc > 2 ? argv[2] : "Message from first process";
    try {
        // create() never opens someone else's object: a live name is file_exists.
        filemap::FileMapping shared = filemap::FileMapping::create(name, 256);
        shared.write(message); // stored with its '\0'; too long a message throws, never truncates
        std::printf("writer: wrote \"%s\" to \"%s\" (%zu bytes); waiting for a reader\n",
                    message.c_str(), name.c_str(), shared.size());
        std::fflush(stdout);

        // The reader answers at offset 128. (Polling keeps this example small;
        // a real program would wait on a NamedMutex or a Channel instead.)
        for (int tick = 0; tick < 3000; ++tick) {
            const std::string answer = shared.read_string(128);
            if (!answer.empty()) {
                std::printf("writer: the reader answered \"%s\"\n", answer.c_str());
                return 0;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::printf("writer: no reader came within 30 seconds\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    // The name goes away with the last handle, here or in the reader.
}
