// 01-writer: the first of two programs sharing memory by name.
//
// Creates a named object, writes a message into it, and keeps it alive until
// 02-reader (another process) has read it and answered. Run it, then run
// 02-reader with the same name in a second terminal.
//
//     01-writer [--wide] [name] [message]
//
// --wide stores the message as UTF-16 with a two-byte terminator, as a
// UNICODE Windows program does (Microsoft's "Creating Named Shared Memory"
// sample, AutoHotkey's StrPut): such a program reads what this one wrote.
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
    const std::string message = argc > first + 1 ? argv[first + 1] : "Message from first process";
    try {
        // create() never opens someone else's object: a live name is file_exists.
        filemap::FileMapping shared = filemap::FileMapping::create(name, 256);
        // Stored with its terminator; too long a message throws, never truncates.
        if (wide) {
            shared.write(std::u16string_view(example::to_utf16(message)));
        } else {
            shared.write(message);
        }
        std::printf("writer: wrote \"%s\" to \"%s\" (%zu bytes%s); waiting for a reader\n",
                    message.c_str(), name.c_str(), shared.size(), wide ? ", UTF-16" : "");
        std::fflush(stdout);

        // The reader answers at offset 128, in the same encoding. (Polling
        // keeps this example small; a real program would wait on a NamedMutex
        // or a Channel instead.)
        for (int tick = 0; tick < 3000; ++tick) {
            const std::string answer =
                wide ? example::to_utf8(shared.read_u16string(128)) : shared.read_string(128);
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
