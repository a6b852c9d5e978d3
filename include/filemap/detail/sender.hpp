// filemap/detail/sender.hpp - Sender: how Channel and Topic put a message into their ring.
//
// Both take their senders' lock, wait for room for one whole record
// (detail/ring.hpp), put the payload there and publish the record; or lend
// the room (a Loan) and publish it on commit. The order of those steps,
// the size rule and the loans are written here once; what differs (which
// lock, how room is waited for, how the bytes go in, what publishing
// announces) is the owner's. An Owner (a CRTP class, which befriends its
// Sender) provides:
//  - `block_` and `noun` (detail/block.hpp), `capacity()` and `name()`;
//  - `lock_senders(operation, layout, deadline)`: a detail::Hold;
//  - `reserve(operation, layout, length, deadline)`: where a record of
//    `length` payload bytes goes, nullopt if the deadline passed;
//  - `ring_of(layout)`, `copy_in(to, message)` and `publish(layout, at, length)`.
// Platform-free.
#pragma once

#include <filemap/detail/deadline.hpp>
#include <filemap/detail/hold.hpp>
#include <filemap/error.hpp>
#include <filemap/loan.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace filemap::detail {

/// The sending side of Channel and Topic: loans, and the steps of a send.
template <class Owner>
class Sender {
public:
    /// Lends room for a message of up to `size` bytes inside the ring,
    /// blocking while it is full, as a send does: build the message in
    /// Loan::bytes(), then Loan::commit() publishes it (no copy). Until then
    /// this process holds the senders' lock. Throws std::system_error:
    /// message_size for `size` over capacity(), invalid_argument for
    /// corrupt shared state, bad_file_descriptor if closed.
    Loan prepare(std::size_t size) { return *lend("prepare", size, std::nullopt); }
    /// prepare() only if there is room now (else nullopt); fails as prepare() does.
    std::optional<Loan> try_prepare(std::size_t size)
    {
        return lend("try_prepare", size, now_only());
    }
    /// prepare() if there is room within `timeout` (else nullopt); fails as prepare() does.
    template <class Rep, class Period>
    std::optional<Loan> prepare_for(std::size_t size,
                                    const std::chrono::duration<Rep, Period>& timeout)
    {
        return lend("prepare_for", size, deadline_after(timeout));
    }

protected:
    /// Sends `message` whole before `deadline`: false if it passed first.
    bool send_until(const char* operation, std::span<const std::byte> message,
                    const Deadline& deadline)
    {
        std::optional<Room> room = make_room(operation, message.size(), deadline);
        if (!room) {
            return false;
        }
        Owner& self = owner();
        if (!message.empty()) {
            self.copy_in(self.ring_of(*room->layout).payload(room->at), message);
        }
        self.publish(*room->layout, room->at, message.size());
        return true;
    }

private:
    /// Room for one record, and the lock that keeps it ours.
    struct Room {
        Hold hold;
        typename Owner::Layout* layout;
        std::uint64_t at;
    };

    Owner& owner() noexcept { return static_cast<Owner&>(*this); }

    std::optional<Room> make_room(const char* operation, std::size_t size, const Deadline& deadline)
    {
        Owner& self = owner();
        auto& layout = self.block_.layout(operation, Owner::noun);
        if (size > self.capacity()) {
            throw_error(operation, self.name(), std::errc::message_size,
                        "the message is " + std::to_string(size) + " bytes, the capacity " +
                            std::to_string(self.capacity()));
        }
        Hold hold = self.lock_senders(operation, layout, deadline);
        if (!hold) {
            return std::nullopt;
        }
        const std::optional<std::uint64_t> at = self.reserve(operation, layout, size, deadline);
        if (!at) {
            return std::nullopt;
        }
        return Room{std::move(hold), &layout, *at};
    }

    std::optional<Loan> lend(const char* operation, std::size_t size, const Deadline& deadline)
    {
        std::optional<Room> room = make_room(operation, size, deadline);
        if (!room) {
            return std::nullopt;
        }
        Owner& self = owner();
        return Loan(std::move(room->hold), {self.ring_of(*room->layout).payload(room->at), size},
                    room->at, &self, [](void* lender, std::uint64_t at, std::size_t used) {
                        Owner& from = *static_cast<Owner*>(lender);
                        from.publish(from.block_.layout("commit", Owner::noun), at, used);
                    });
    }
};

} // namespace filemap::detail
