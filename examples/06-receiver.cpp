// 06-receiver: a message loop through shared memory - the receiving side.
//
// Waits for the sequence number to move (acquire ordering), prints the text,
// and marks it taken so the sender can write the next. Stops at "quit".
//
//     06-receiver
#include <filemap/filemap.hpp>

#include "mailbox.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

int main()
{
    auto shared = filemap::FileMapping::open_or_create(mailbox::name, sizeof(mailbox::Mailbox));
    mailbox::Mailbox& box = shared.as_span<mailbox::Mailbox>(0, 1)[0];
    std::atomic_ref<std::uint32_t> sent(box.sent);
    std::atomic_ref<std::uint32_t> taken(box.taken);

    for (;;) {
        const std::uint32_t seen = taken.load(std::memory_order_relaxed);
        if (sent.load(std::memory_order_acquire) == seen) {
            std::this_thread::sleep_for(
                std::chrono::milliseconds(1)); // a Channel would block instead
            continue;
        }
        const std::string message = shared.read_string(mailbox::text_offset);
        taken.store(seen + 1, std::memory_order_release);
        if (message == "quit") {
            return 0;
        }
        std::printf("receiver: got \"%s\"\n", message.c_str());
        std::fflush(stdout);
    }
}
