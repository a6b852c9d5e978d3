// 05-sender: a message loop through shared memory - the sending side.
//
// A one-slot mailbox in a named mapping: the sender waits until the receiver
// has taken the previous message, writes the next, then bumps a sequence
// number with release ordering so the text is visible before the number.
// Start 06-receiver, then this, in either order.
//
//     05-sender [message...]      (without messages: one per line of input)
#include <filemap/filemap.hpp>

#include "mailbox.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
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

    auto shared = filemap::FileMapping::open_or_create(mailbox::name, sizeof(mailbox::Mailbox));
    mailbox::Mailbox& box = shared.as_span<mailbox::Mailbox>(0, 1)[0];
    std::atomic_ref<std::uint32_t> sent(box.sent);
    std::atomic_ref<std::uint32_t> taken(box.taken);

    for (const std::string& message : messages) {
        while (taken.load(std::memory_order_acquire) != sent.load(std::memory_order_relaxed)) {
            std::this_thread::sleep_for(
                std::chrono::milliseconds(1)); // a Channel would block instead
        }
        try {
            shared.write(message, mailbox::text_offset); // too long: an exception, never truncated
        } catch (const std::out_of_range&) {
            std::fprintf(stderr, "sender: \"%s\" is longer than the %zu-byte slot, skipped\n",
                         message.c_str(), sizeof box.text - 1);
            continue;
        }
        sent.fetch_add(1, std::memory_order_release);
        std::printf("sender: sent \"%s\"\n", message.c_str());
        std::fflush(stdout);
    }
    // Stay until the receiver has taken "quit": the mapping dies with its last handle.
    while (taken.load(std::memory_order_acquire) != sent.load(std::memory_order_relaxed)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return 0;
}
