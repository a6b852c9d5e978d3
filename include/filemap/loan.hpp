// filemap/loan.hpp - Loan: room for one message, lent inside a Channel's or Topic's ring.
//
// A sender that asks for a Loan (Channel::prepare, Topic::prepare) builds
// its message where the receivers will read it, and commit() publishes it:
// no copy on the way in. Until then the sender holds its side's lock, so a
// loan is short: others who send on the same channel or topic wait for it.
// A Loan dropped without commit() publishes nothing; a process killed
// holding one publishes nothing either, and the next sender recovers the
// lock. A Loan must end before the Channel or Topic that lent it is moved,
// closed or destroyed, and (the lock is a thread's on Windows) on the
// thread that asked for it.
#pragma once

#include <filemap/detail/hold.hpp>
#include <filemap/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace filemap {

namespace detail {
template <class Owner>
class Sender;
} // namespace detail

/// Room for one message inside a ring, lent to a sender. Move-only; an
/// empty Loan (default-made, moved from, committed) holds no room.
class Loan {
public:
    /// An empty loan.
    Loan() noexcept = default;
    /// Takes over `other`'s room; `other` is left empty.
    Loan(Loan&& other) noexcept { take(std::move(other)); }
    /// Abandons the room this holds, then takes over `other`'s.
    Loan& operator=(Loan&& other) noexcept
    {
        if (this != &other) {
            hold_.reset();
            take(std::move(other));
        }
        return *this;
    }
    /// Abandons the room: nothing is published.
    ~Loan() = default;

    /// The room, in the shared ring, 16-byte aligned: write the message
    /// here. It is shared memory: a peer with write access may write it too.
    std::span<std::byte> bytes() const noexcept { return room_; }
    /// The first byte of the room; nullptr when empty.
    std::byte* data() const noexcept { return room_.data(); }
    /// The bytes lent; 0 when empty.
    std::size_t size() const noexcept { return room_.size(); }
    /// Whether this holds room.
    explicit operator bool() const noexcept { return hold_.has_value(); }

    /// Publishes the message: all size() bytes. Throws std::system_error:
    /// bad_file_descriptor for an empty loan. The loan is then empty.
    void commit() { commit(room_.size()); }
    /// Publishes the first `used` bytes as the message. Throws
    /// std::system_error: message_size if `used` is over size() (the loan is
    /// kept), bad_file_descriptor for an empty loan. The loan is then empty.
    void commit(std::size_t used)
    {
        if (!hold_) {
            detail::throw_error("commit", "", std::errc::bad_file_descriptor, "the loan is empty");
        }
        if (used > room_.size()) {
            detail::throw_error("commit", "", std::errc::message_size,
                                std::to_string(used) + " bytes used of a loan of " +
                                    std::to_string(room_.size()));
        }
        publish_(owner_, at_, used);
        hold_.reset();
        room_ = {};
    }

private:
    template <class Owner>
    friend class detail::Sender;

    /// Publishes `used` bytes of the room lent at ring position `at`.
    using Publish = void (*)(void* owner, std::uint64_t at, std::size_t used);

    Loan(detail::Hold&& hold, std::span<std::byte> room, std::uint64_t at, void* owner,
         Publish publish) noexcept
        : room_(room), at_(at), owner_(owner), publish_(publish)
    {
        hold_.emplace(std::move(hold));
    }

    void take(Loan&& other) noexcept
    {
        if (other.hold_) {
            hold_.emplace(std::move(*other.hold_));
            other.hold_.reset();
        }
        room_ = std::exchange(other.room_, {});
        at_ = other.at_;
        owner_ = other.owner_;
        publish_ = other.publish_;
    }

    std::optional<detail::Hold> hold_;
    std::span<std::byte> room_;
    std::uint64_t at_ = 0;
    void* owner_ = nullptr;
    Publish publish_ = nullptr;
};

} // namespace filemap
