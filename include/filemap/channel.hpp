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
// largest fit in it): contiguous, 16-byte aligned payloads, so a sender can build a message in
// place (prepare() lends it the room, commit() publishes it) and a receiver can read it in place
// (receive_with()). Every other send and receive is one copy into the ring and one out of it.
#pragma once

#include <filemap/detail/atomic64.hpp>
#include <filemap/detail/block.hpp>
#include <filemap/detail/deadline.hpp>
#include <filemap/detail/factory.hpp>
#include <filemap/detail/hold.hpp>
#include <filemap/detail/mapping.hpp>
#include <filemap/detail/platform.hpp>
#include <filemap/detail/ring.hpp>
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
class Channel : public detail::NamedFactory<Channel, std::size_t> {
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

    /// Lends room for a message of up to `size` bytes inside the ring,
    /// blocking while the channel is full: build the message in
    /// Loan::bytes(), then Loan::commit() publishes it (no copy). Until then
    /// this process holds the send lock. Fails as send() does for a message
    /// of `size` bytes.
    Loan prepare(std::size_t size) { return *prepare_until("prepare", size, std::nullopt); }
    /// prepare() only if there is room now (else nullopt); fails as send() does.
    std::optional<Loan> try_prepare(std::size_t size)
    {
        return prepare_until("try_prepare", size, detail::now_only());
    }
    /// prepare() if there is room within `timeout` (else nullopt); fails as send() does.
    template <class Rep, class Period>
    std::optional<Loan> prepare_for(std::size_t size,
                                    const std::chrono::duration<Rep, Period>& timeout)
    {
        return prepare_until("prepare_for", size, detail::deadline_after(timeout));
    }

    /// The next message, blocking until one arrives. Throws
    /// std::system_error: invalid_argument for a corrupt record,
    /// bad_file_descriptor if closed.
    std::vector<std::byte> receive() { return *receive_vector("receive", std::nullopt); }
    /// Copies the next message into `buffer` and returns its size. Too small
    /// a buffer is message_size, and the message stays for the next
    /// receive; otherwise fails as receive() does.
    std::size_t receive(std::span<std::byte> buffer)
    {
        std::size_t size = 0;
        take("receive", std::nullopt, [&](std::span<const std::byte> message) {
            const std::size_t length = message.size();
            if (length > buffer.size()) {
                detail::throw_error("receive", name(), std::errc::message_size,
                                    "the message is " + std::to_string(length) +
                                        " bytes, the buffer " + std::to_string(buffer.size()));
            }
            size = length;
            copy_out(message, buffer.data());
        });
        return size;
    }
    /// The next message as text; fails as receive() does.
    std::string receive_string() { return receive_text<char>("receive_string"); }
    /// The next message as wide text. A message that is not a whole number
    /// of code units is invalid_argument, and stays for the next receive;
    /// otherwise fails as receive() does.
    std::wstring receive_wstring() { return receive_text<wchar_t>("receive_wstring"); }
    /// The next message as UTF-16 text; fails as receive_wstring() does.
    std::u16string receive_u16string() { return receive_text<char16_t>("receive_u16string"); }
    /// The next message if one is there now; fails as receive() does.
    std::optional<std::vector<std::byte>> try_receive()
    {
        return receive_vector("try_receive", detail::now_only());
    }
    /// The next message if one arrives within `timeout`; fails as receive() does.
    template <class Rep, class Period>
    std::optional<std::vector<std::byte>>
    receive_for(const std::chrono::duration<Rep, Period>& timeout)
    {
        return receive_vector("receive_for", detail::deadline_after(timeout));
    }

    /// Calls `fn(std::span<const std::byte>)` with the next message, in
    /// place in the ring, blocking until one arrives; its room is freed when
    /// `fn` returns. If `fn` throws, the message stays for the next receive
    /// and the exception propagates; a process killed inside `fn` leaves it
    /// for the next receiver too. The span's bounds were checked, but its
    /// bytes are shared memory: a peer with write access may change them
    /// while `fn` reads them. Other receivers wait until `fn` returns.
    /// Otherwise fails as receive() does.
    template <class Fn>
    void receive_with(Fn&& fn)
    {
        take("receive_with", std::nullopt, fn);
    }
    /// receive_with() if a message is there now: false if there was none.
    template <class Fn>
    bool try_receive_with(Fn&& fn)
    {
        return take("try_receive_with", detail::now_only(), fn);
    }
    /// receive_with() if a message arrives within `timeout`: false if none did.
    template <class Rep, class Period, class Fn>
    bool receive_with_for(const std::chrono::duration<Rep, Period>& timeout, Fn&& fn)
    {
        return take("receive_with_for", detail::deadline_after(timeout), fn);
    }

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

    void check_size(const char* operation, std::size_t size) const
    {
        if (size > capacity()) {
            detail::throw_error(operation, name(), std::errc::message_size,
                                "the message is " + std::to_string(size) + " bytes, the capacity " +
                                    std::to_string(capacity()));
        }
    }

    bool send_until(const char* operation, std::span<const std::byte> message,
                    const detail::Deadline& deadline)
    {
        Layout& layout = block_.layout(operation, noun);
        check_size(operation, message.size());
        Hold hold(block_.attached().send_lock, layout.send_lock, operation, name(), deadline);
        if (!hold) {
            return false;
        }
        const auto at = reserve(operation, layout, detail::record_size(message.size()), deadline);
        if (!at) {
            return false;
        }
        if (!message.empty()) {
            std::memcpy(ring_of(layout).payload(*at), message.data(), message.size());
        }
        publish(layout, *at, message.size());
        return true;
    }

    std::optional<Loan> prepare_until(const char* operation, std::size_t size,
                                      const detail::Deadline& deadline)
    {
        Layout& layout = block_.layout(operation, noun);
        check_size(operation, size);
        Hold hold(block_.attached().send_lock, layout.send_lock, operation, name(), deadline);
        if (!hold) {
            return std::nullopt;
        }
        const auto at = reserve(operation, layout, detail::record_size(size), deadline);
        if (!at) {
            return std::nullopt;
        }
        return Loan(std::move(hold), {ring_of(layout).payload(*at), size}, *at, this,
                    [](void* owner, std::uint64_t lent_at, std::size_t used) {
                        auto& channel = *static_cast<Channel*>(owner);
                        channel.publish(channel.block_.layout("commit", noun), lent_at, used);
                    });
    }

    /// Waits (holding the send lock) until a record of `need` bytes fits
    /// whole at the tail, after a wrap marker if it would cross the end of
    /// the ring; returns where it goes, nullopt if the deadline passed. The
    /// ring holds two of the largest records, so a drained ring has room
    /// for marker and record, and the record never covers a marker that a
    /// receiver has yet to read.
    std::optional<std::uint64_t> reserve(const char* operation, Layout& layout, std::uint64_t need,
                                         const detail::Deadline& deadline)
    {
        const detail::Ring ring = ring_of(layout);
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

    static void copy_out(std::span<const std::byte> message, void* to) noexcept
    {
        if (!message.empty()) {
            std::memcpy(to, message.data(), message.size());
        }
    }

    template <class Char>
    std::basic_string<Char> receive_text(const char* operation)
    {
        std::basic_string<Char> text;
        take(operation, std::nullopt, [&](std::span<const std::byte> message) {
            const std::size_t length = message.size();
            if (length % sizeof(Char) != 0) {
                detail::throw_error(operation, name(), std::errc::invalid_argument,
                                    "the message is " + std::to_string(length) +
                                        " bytes, not a whole number of " +
                                        std::to_string(sizeof(Char)) + "-byte code units");
            }
            text.resize(length / sizeof(Char));
            copy_out(message, text.data());
        });
        return text;
    }

    std::optional<std::vector<std::byte>> receive_vector(const char* operation,
                                                         const detail::Deadline& deadline)
    {
        std::vector<std::byte> message;
        const bool got = take(operation, deadline, [&](std::span<const std::byte> found) {
            message.assign(found.begin(), found.end());
        });
        if (!got) {
            return std::nullopt;
        }
        return message;
    }

    using Block = detail::Block<Layout, Attached>;
    Block block_;
};

} // namespace filemap
