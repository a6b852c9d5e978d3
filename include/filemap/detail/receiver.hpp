// filemap/detail/receiver.hpp - Receiver: the ways Channel and Subscriber hand a message over.
//
// Both find the next message in their ring and hand it, as a checked span,
// to a function; every receive is written once here on top of that, as a
// copy (a vector, a caller's buffer, a string) or in place (receive_with).
// An Owner (a CRTP class, which befriends its Receiver) provides `name()`
// and `take(operation, deadline, deliver)`: waits before `deadline` for the
// next message, calls `deliver(std::span<const std::byte>)` with it and
// moves past it, or leaves it for the next receive if `deliver` throws;
// false if the deadline passed first. Platform-free.
#pragma once

#include <filemap/detail/deadline.hpp>
#include <filemap/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace filemap::detail {

/// The receiving side of Channel and Subscriber.
template <class Owner>
class Receiver {
public:
    /// The next message, blocking until one arrives. Throws
    /// std::system_error: invalid_argument for corrupt shared state (or,
    /// for a Subscriber, a subscription a peer removed),
    /// bad_file_descriptor if closed.
    std::vector<std::byte> receive() { return *receive_vector("receive", std::nullopt); }
    /// Copies the next message into `buffer` and returns its size. Too small
    /// a buffer is message_size, and the message stays for the next
    /// receive; otherwise fails as receive() does.
    std::size_t receive(std::span<std::byte> buffer)
    {
        std::size_t size = 0;
        owner().take("receive", std::nullopt, [&](std::span<const std::byte> message) {
            if (message.size() > buffer.size()) {
                throw_error("receive", owner().name(), std::errc::message_size,
                            "the message is " + std::to_string(message.size()) +
                                " bytes, the buffer " + std::to_string(buffer.size()));
            }
            size = message.size();
            copy_out(message, buffer.data());
        });
        return size;
    }
    /// The next message as text; fails as receive() does.
    std::string receive_string() { return receive_text<char>("receive_string"); }
    /// The next message if one is there now; fails as receive() does.
    std::optional<std::vector<std::byte>> try_receive()
    {
        return receive_vector("try_receive", now_only());
    }
    /// The next message if one arrives within `timeout`; fails as receive() does.
    template <class Rep, class Period>
    std::optional<std::vector<std::byte>>
    receive_for(const std::chrono::duration<Rep, Period>& timeout)
    {
        return receive_vector("receive_for", deadline_after(timeout));
    }

    /// Calls `fn(std::span<const std::byte>)` with the next message,
    /// blocking until one arrives, and moves past it when `fn` returns. If
    /// `fn` throws, the message stays for the next receive and the exception
    /// propagates; a process killed inside `fn` leaves it too. The span is
    /// the message in place in the ring (for a Subscriber of an
    /// Overflow::drop_oldest topic, a private copy checked whole, as a
    /// publisher may overwrite the ring at any moment). Its bounds were
    /// checked, but in place its bytes are shared memory: a peer with write
    /// access may change them while `fn` reads them. Otherwise fails as
    /// receive() does.
    template <class Fn>
    void receive_with(Fn&& fn)
    {
        owner().take("receive_with", std::nullopt, fn);
    }
    /// receive_with() if a message is there now: false if there was none.
    template <class Fn>
    bool try_receive_with(Fn&& fn)
    {
        return owner().take("try_receive_with", now_only(), fn);
    }
    /// receive_with() if a message arrives within `timeout`: false if none did.
    template <class Rep, class Period, class Fn>
    bool receive_with_for(const std::chrono::duration<Rep, Period>& timeout, Fn&& fn)
    {
        return owner().take("receive_with_for", deadline_after(timeout), fn);
    }

protected:
    /// The next message as a string of `Char` code units: a message that is
    /// not a whole number of them is invalid_argument, and stays.
    template <class Char>
    std::basic_string<Char> receive_text(const char* operation)
    {
        std::basic_string<Char> text;
        owner().take(operation, std::nullopt, [&](std::span<const std::byte> message) {
            const std::size_t length = message.size();
            if (length % sizeof(Char) != 0) {
                throw_error(operation, owner().name(), std::errc::invalid_argument,
                            "the message is " + std::to_string(length) +
                                " bytes, not a whole number of " + std::to_string(sizeof(Char)) +
                                "-byte code units");
            }
            text.resize(length / sizeof(Char));
            copy_out(message, text.data());
        });
        return text;
    }

private:
    Owner& owner() noexcept { return static_cast<Owner&>(*this); }

    static void copy_out(std::span<const std::byte> message, void* to) noexcept
    {
        if (!message.empty()) {
            std::memcpy(to, message.data(), message.size());
        }
    }

    std::optional<std::vector<std::byte>> receive_vector(const char* operation,
                                                         const Deadline& deadline)
    {
        std::vector<std::byte> message;
        const bool got = owner().take(operation, deadline, [&](std::span<const std::byte> found) {
            message.assign(found.begin(), found.end());
        });
        if (!got) {
            return std::nullopt;
        }
        return message;
    }
};

} // namespace filemap::detail
