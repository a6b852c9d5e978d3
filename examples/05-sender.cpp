// 05-sender: a message loop between processes - the sending side, on a Channel.
//
// A Channel is a bounded message queue in a named mapping: messages arrive
// whole and in order, send blocks while it is full, receive blocks (in the
// kernel, not a sleep loop) until a message comes. Each message here is
// built where the receiver will read it: prepare() lends room inside the
// channel, commit() publishes it. Start 06-receiver, then this, in either
// order.
//
//     05-sender [message...]      (without messages: one per line of input)
#include <filemap/filemap.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    std::vector<std::string> messages(argv + 1, argv + argc);
    if (messages.empty()) {
        for (std::string line; std::getline(std::cin, line);) {
            messages.push_back(line);
        }
    }
    messages.push_back("quit");

    // Either side may come first: open_or_create, with room for 256-byte messages.
    auto channel = filemap::Channel::open_or_create("filemap-messages", 256);
    for (const std::string& message : messages) {
        try {
            filemap::Loan loan = channel.prepare(message.size()); // blocks while full
            std::memcpy(loan.data(), message.data(), message.size());
            loan.commit();                     // (dropped without commit, a loan publishes nothing)
        } catch (const std::system_error& e) { // longer than 256 bytes: message_size
            std::fprintf(stderr, "sender: %s\n", e.what());
            continue;
        }
        std::printf("sender: sent \"%s\"\n", message.c_str());
        std::fflush(stdout);
    }
    // Stay until the receiver has taken everything: the channel's name lives
    // as long as one process holds it.
    auto acknowledgements = filemap::Channel::open_or_create("filemap-messages-ack", 16);
    acknowledgements.receive();
    return 0;
}
