// 06-receiver: a message loop between processes - the receiving side.
//
// Blocks until each message arrives, prints it where it lies in the channel
// (receive_with: no copy), and stops at "quit".
//
//     06-receiver
#include <filemap/filemap.hpp>

#include <cstdio>
#include <span>
#include <string_view>

int main()
{
    auto channel = filemap::Channel::open_or_create("filemap-messages", 256);
    auto acknowledgements = filemap::Channel::open_or_create("filemap-messages-ack", 16);
    for (bool quit = false; !quit;) {
        channel.receive_with([&](std::span<const std::byte> bytes) {
            const std::string_view message(reinterpret_cast<const char*>(bytes.data()),
                                           bytes.size());
            quit = message == "quit";
            if (!quit) {
                std::printf("receiver: got \"%.*s\"\n", static_cast<int>(message.size()),
                            message.data());
                std::fflush(stdout);
            }
        });
    }
    acknowledgements.send("done");
    return 0;
}
