// 06-receiver: a message loop between processes - the receiving side.
//
// Blocks until each message arrives, prints it, and stops at "quit".
//
//     06-receiver
#include <filemap/filemap.hpp>

#include <cstdio>
#include <string>

int main()
{
    auto channel = filemap::Channel::open_or_create("filemap-messages", 256);
    auto acknowledgements = filemap::Channel::open_or_create("filemap-messages-ack", 16);
    for (;;) {
        const std::string message = channel.receive_string();
        if (message == "quit") {
            acknowledgements.send("done");
            return 0;
        }
        std::printf("receiver: got \"%s\"\n", message.c_str());
        std::fflush(stdout);
    }
}
