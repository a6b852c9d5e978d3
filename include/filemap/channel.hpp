// filemap/channel.hpp - Channel: a bounded, one-way message queue in a named mapping.
//
// Messages arrive whole and in order. Many senders and many receivers are
// safe (each side takes its robust lock); one sender with one receiver is
// the fast path. Waiting blocks in the kernel after a short spin, never in a
// sleep loop. A process killed anywhere inside send or receive wedges nobody:
// its lock is recovered and its half-done message was never published (a
// sender's) or is delivered again (a receiver's); one that dies between
// publishing and waking delays a sleeping peer by at most
// peer_check_interval (20 ms). The layout has fixed-width fields, the same in
// 32- and 64-bit processes, and a magic/version header, so opening anything
// else is invalid_argument.
//
// Any process that maps the channel may write any bytes into it. The header
// is read once at open and checked; head, tail and record lengths are checked
// against that private copy before every use, so a corrupt channel fails the
// call with invalid_argument ("corrupt header", "corrupt indices", "corrupt
// record at byte N") and never reads or writes outside its ring.
//
// Messages are whole records in the ring of detail/ring.hpp (two of the
// largest fit in it): contiguous, 16-byte aligned payloads, so a sender can
// build a message in place (prepare() lends it the room, commit() publishes
// it) and a receiver can read it in place (receive_with()). Every other send
// and receive is one copy into the ring and one out of it. The steps of a
// send are detail/sender.hpp's, the ways to receive detail/receiver.hpp's.
#pragma once

#include <filemap/detail/atomic64.hpp>
#include <filemap/detail/block.hpp>
#include <filemap/detail/deadline.hpp>
#include <filemap/detail/factory.hpp>
#include <filemap/detail/hold.hpp>
#include <filemap/detail/mapping.hpp>
#include <filemap/detail/platform.hpp>
#include <filemap/detail/receiver.hpp>
#include <filemap/detail/ring.hpp>
#include <filemap/detail/sender.hpp>
#include <filemap/detail/steps.hpp>
#include <filemap/detail/wake.hpp>
#include <filemap/error.hpp>
#include <filemap/loan.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace filemap {

/// A bounded, one-way message queue shared by processes, by name. Moves
/// leave the source empty; every operation on an empty, closed or moved-from
/// Channel is bad_file_descriptor. create() and open_or_create() come from
/// NamedFactory, with the largest message, in bytes, after the name
/// (invalid_argument for 0; open_or_create: an existing channel for smaller
/// messages is result_out_of_range).
class Channel : public detail::NamedFactory<Channel, std::size_t>,
                public detail::Sender<Channel>,
                public detail::Receiver<Channel> {
public:
    /// An empty channel: is_open() is false.
    Channel() noexcept = default;

    /// Opens an existing channel. no_such_file_or_directory if there is
    /// none, invalid_argument if the name holds something else (or another
    /// layout version), timed_out if its creator never finished building it.
    /// Throws std::system_error.
    static Channel open(std::string_view name)
    {
        return invoke(detail::Disposition::open, name, Options{}, nullptr);
    }
    /// open(), reporting a failure in `ec` (and returning an empty channel).
    static Channel open(std::string_view name, std::error_code& ec)
    {
        return invoke(detail::Disposition::open, name, Options{}, &ec);
    }

    /// Sends `message`, blocking while the channel is full. Throws
    /// std::system_error: message_size for a message larger than
    /// capacity(), bad_file_descriptor if closed.
    void send(std::span<const std::byte> message) { send_until("send", message, std::nullopt); }
    /// Sends the characters of `text` (no '\0' is added); fails as send() does.
    void send(std::string_view text) { send(std::as_bytes(std::span(text.data(), text.size()))); }
    /// Sends the code units of `text` (UTF-16 on Windows, UTF-32 on Linux;
    /// no terminator); fails as send() does (capacity counts bytes).
    void send(std::wstring_view text) { send(std::as_bytes(std::span(text.data(), text.size()))); }
    /// Sends the UTF-16 code units of `text` (no terminator); fails as send() does.
    void send(std::u16string_view text)
    {
        send(std::as_bytes(std::span(text.data(), text.size())));
    }
    /// Sends only if there is room now; fails as send() does.
    bool try_send(std::span<const std::byte> message)
    {
        return send_until("try_send", message, detail::now_only());
    }
    /// Sends if there is room within `timeout`; fails as send() does.
    template <class Rep, class Period>
    bool send_for(std::span<const std::byte> message,
                  const std::chrono::duration<Rep, Period>& timeout)
    {
        return send_until("send_for", message, detail::deadline_after(timeout));
    }
    // prepare(), try_prepare(), prepare_for(): detail::Sender.
    // receive(), try_receive(), receive_for(), receive_string(),
    // receive_with(), try_receive_with(), receive_with_for(): detail::Receiver.

    /// The next message as wide text. A message that is not a whole number
    /// of code units is invalid_argument, and stays for the next receive;
    /// otherwise fails as receive() does.
    std::wstring receive_wstring() { return receive_text<wchar_t>("receive_wstring"); }
    /// The next message as UTF-16 text; fails as receive_wstring() does.
    std::u16string receive_u16string() { return receive_text<char16_t>("receive_u16string"); }

    /// The largest message this channel carries, in bytes; 0 when closed.
    std::size_t capacity() const noexcept { return block_.attached().capacity; }
    /// Whether this holds a channel; false when empty, closed or moved from.
    bool is_open() const noexcept { return block_.is_open(); }
    /// The name as given; "" when closed.
    std::string_view name() const noexcept { return block_.name(); }
    /// True if the call that made this channel created it (open_or_create says which).
    bool created() const noexcept { return block_.created(); }
    /// Unmaps the channel; idempotent.
    void close() noexcept { block_.close(); }

private:
    friend class detail::NamedFactory<Channel, std::size_t>;
    friend class detail::Sender<Channel>;
    friend class detail::Receiver<Channel>;

    using Lock = detail::os::ProcessMutex;

    /// The shared layout: fixed-width fields at the same offsets in 32- and
    /// 64-bit processes; each side's hot words on a cache line of their own.
    /// Any process that maps it may write any bytes here at any time: each
    /// value is read once into private memory and checked before use.
    struct Layout {
        detail::BlockHeader header;
        alignas(8) std::uint64_t capacity;
        alignas(8) std::uint64_t ring_size;
        Lock::Slot send_lock;
        Lock::Slot receive_lock;
        alignas(64) std::uint64_t tail; // bytes ever written; senders only
        detail::WakeSlot data;          // receivers sleep here for messages
        alignas(64) std::uint64_t head; // bytes ever read; receivers only
        detail::WakeSlot space;         // senders sleep here for room
        alignas(64) std::byte ring[8];  // ring_size bytes from here on
    };
    static constexpr std::size_t ring_offset = offsetof(Layout, ring);
    static_assert(offsetof(Layout, capacity) == 24 && offsetof(Layout, tail) == 128 &&
                      offsetof(Layout, head) == 192 && ring_offset == 256,
                  "the same layout in every process, whatever its word size");
    static constexpr std::size_t max_capacity = 0x3FFFFF00; // two fit in 32-bit sizes
    static constexpr const char* noun = "channel";
    static constexpr detail::BlockKind kind{0x48434D46 /* "FMCH" */, 3, sizeof(Layout), ring_offset,
                                            noun};

    /// This process's side of the channel: its kernel objects, and the
    /// geometry it checked when it attached.
    struct Attached {
        Lock send_lock;
        Lock receive_lock;
        detail::Wakeup data;
        detail::Wakeup space;
        std::size_t capacity = 0;
        std::uint64_t ring_size = 0;
        std::uint64_t seen_tail = 0; // the last tail this process saw
    };

    static Channel make(const detail::NamedRequest& request, detail::Error& error)
    {
        const std::size_t capacity = request.size;
        if (request.disposition != detail::Disposition::open &&
            (capacity == 0 || capacity > max_capacity)) {
            error.set(std::errc::invalid_argument,
                      "capacity must be 1 to " + std::to_string(max_capacity) + " bytes");
            return {};
        }
        const std::string name(request.name);
        const auto build = [&](Layout& layout, Attached&, detail::Error& failure) {
            layout.capacity = capacity;
            layout.ring_size = 2 * detail::record_size(capacity);
            Lock::attach(layout.send_lock, detail::derived_name(name, "send"), true, failure);
            if (!failure) {
                Lock::attach(layout.receive_lock, detail::derived_name(name, "receive"), true,
                             failure);
            }
            return !failure;
        };
        const auto attach = [&](Layout& layout, std::size_t mapped, Attached& attached,
                                detail::Error& failure) {
            // Read once, then checked in an order in which nothing overflows.
            const std::uint64_t found = detail::read_once(layout.capacity);
            const std::uint64_t ring_size = detail::read_once(layout.ring_size);
            if (found == 0 || found > max_capacity || ring_size != 2 * detail::record_size(found) ||
                ring_size > mapped - ring_offset) {
                failure.set(std::errc::invalid_argument,
                            "corrupt header: capacity " + std::to_string(found) + ", ring " +
                                std::to_string(ring_size) + " bytes, in an object of " +
                                std::to_string(mapped));
                return false;
            }
            if (found < capacity) {
                failure.set(std::errc::result_out_of_range,
                            "the channel carries " + std::to_string(found) +
                                "-byte messages, asked for " + std::to_string(capacity));
                return false;
            }
            attached.capacity = static_cast<std::size_t>(found);
            attached.ring_size = ring_size;
            attached.send_lock =
                Lock::attach(layout.send_lock, detail::derived_name(name, "send"), false, failure);
            attached.receive_lock = Lock::attach(
                layout.receive_lock, detail::derived_name(name, "receive"), false, failure);
            attached.data = detail::Wakeup::attach(detail::derived_name(name, "data"), failure);
            attached.space = detail::Wakeup::attach(detail::derived_name(name, "space"), failure);
            return !failure;
        };
        const auto bytes =
            static_cast<std::size_t>(ring_offset + 2 * detail::record_size(capacity));
        Channel made;
        made.block_ = Block::make(request, kind, bytes, build, attach, error);
        return made;
    }

    /// The ring: ring_size bytes of the mapping from ring_offset on (the
    /// `ring` member only marks where; indexing it past 8 is not C++).
    detail::Ring ring_of(Layout& layout) const noexcept
    {
        return {reinterpret_cast<std::byte*>(&layout) + ring_offset, block_.attached().ring_size};
    }

    using Hold = detail::Hold;

    Hold lock_senders(const char* operation, Layout& layout, const detail::Deadline& deadline)
    {
        return Hold(block_.attached().send_lock, layout.send_lock, operation, name(), deadline);
    }

    static void copy_in(std::byte* to, std::span<const std::byte> message) noexcept
    {
        std::memcpy(to, message.data(), message.size());
    }

    /// Waits (holding the send lock) until a record of `length` payload
    /// bytes fits whole at the tail, after a wrap marker if it would cross the end of
    /// the ring; returns where it goes, nullopt if the deadline passed. The
    /// ring holds two of the largest records, so a drained ring has room
    /// for marker and record, and the record never covers a marker that a
    /// receiver has yet to read.
    std::optional<std::uint64_t> reserve(const char* operation, Layout& layout, std::size_t length,
                                         const detail::Deadline& deadline)
    {
        const detail::Ring ring = ring_of(layout);
        const std::uint64_t need = detail::record_size(length);
        detail::Atomic64 head(layout.head);
        const std::uint64_t at = detail::Atomic64(layout.tail).load(std::memory_order_relaxed);
        const std::uint64_t skip = ring.skip_before(at, need);
        std::uint64_t read = 0;
        const auto room = [&] {
            read = head.load(std::memory_order_acquire);
            // Once the indices are corrupt, stop waiting and say so.
            return !indices_sound(read, at) || at + skip + need - read <= ring.size();
        };
        if (!block_.attached().space.wait(layout.space, room, deadline)) {
            return std::nullopt;
        }
        if (!indices_sound(read, at)) {
            corrupt_indices(operation, read, at);
        }
        if (skip != 0) {
            ring.mark_wrap(at); // published with the record
        }
        return at + skip;
    }

    /// Publishes the record of `length` bytes whose payload is in place at `at`.
    void publish(Layout& layout, std::uint64_t at, std::size_t length) noexcept
    {
        ring_of(layout).write_header(at, static_cast<std::uint32_t>(length), 0);
        detail::Atomic64(layout.tail)
            .store(at + detail::record_size(length), std::memory_order_release);
        FILEMAP_STEP(send_published);
        block_.attached().data.notify(layout.data);
    }

    /// Whether a head and a tail can be a channel's: no further apart than
    /// the ring, and in order. Anything else was written by a peer.
    bool indices_sound(std::uint64_t head, std::uint64_t tail) const noexcept
    {
        return head <= tail && tail - head <= block_.attached().ring_size &&
               detail::Ring::aligned(head) && detail::Ring::aligned(tail);
    }

    [[noreturn]] void corrupt_indices(const char* operation, std::uint64_t head,
                                      std::uint64_t tail) const
    {
        detail::throw_error(operation, name(), std::errc::invalid_argument,
                            "corrupt indices: head " + std::to_string(head) + ", tail " +
                                std::to_string(tail) + ", ring " +
                                std::to_string(block_.attached().ring_size) + " bytes");
    }

    /// Waits for the next message and hands it, in place, to
    /// `deliver(std::span<const std::byte>)`, then frees it. If `deliver`
    /// throws, the message stays for the next receive.
    template <class Deliver>
    bool take(const char* operation, const detail::Deadline& deadline, Deliver&& deliver)
    {
        Layout& layout = block_.layout(operation, noun);
        Attached& self = block_.attached();
        Hold hold(self.receive_lock, layout.receive_lock, operation, name(), deadline);
        if (!hold) {
            return false;
        }
        const detail::Ring ring = ring_of(layout);
        detail::Atomic64 tail(layout.tail);
        detail::Atomic64 head(layout.head);
        std::uint64_t at = head.load(std::memory_order_relaxed);
        if (!detail::Ring::aligned(at)) {
            corrupt_indices(operation, at, tail.load(std::memory_order_relaxed));
        }
        for (;;) {
            // Messages below the last tail seen are published: no need to look again.
            if (self.seen_tail <= at && !self.data.wait(
                                            layout.data,
                                            [&] {
                                                self.seen_tail =
                                                    tail.load(std::memory_order_acquire);
                                                return self.seen_tail > at;
                                            },
                                            deadline)) {
                return false;
            }
            if (!indices_sound(at, self.seen_tail)) {
                self.seen_tail = tail.load(std::memory_order_acquire); // ours may be stale
                if (!indices_sound(at, self.seen_tail) || self.seen_tail == at) {
                    corrupt_indices(operation, at, self.seen_tail);
                }
            }
            const detail::Record record = ring.look(at, self.seen_tail - at, self.capacity);
            if (record.kind == detail::Record::Kind::corrupt) {
                detail::throw_error(operation, name(), std::errc::invalid_argument,
                                    "corrupt record at byte " + std::to_string(at) + ": length " +
                                        std::to_string(record.length) + ", capacity " +
                                        std::to_string(self.capacity) + ", " +
                                        std::to_string(self.seen_tail - at) + " bytes published");
            }
            if (record.kind == detail::Record::Kind::message) {
                deliver(std::span<const std::byte>(ring.payload(at), record.length));
            }
            at += record.size;
            head.store(at, std::memory_order_release); // frees the record
            FILEMAP_STEP(receive_freed);
            self.space.notify(layout.space);
            if (record.kind == detail::Record::Kind::message) {
                return true;
            }
        }
    }

    using Block = detail::Block<Layout, Attached>;
    Block block_;
};

} // namespace filemap
