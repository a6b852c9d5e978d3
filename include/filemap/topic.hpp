// filemap/topic.hpp - Topic and Subscriber: every message to every subscriber, by name.
//
// A Topic is a bounded ring in a named mapping that any number of processes
// publish to (one at a time: they take the publish lock) and any number
// subscribe to (up to max_subscribers at once). A Subscriber receives every
// message published after it subscribed, whole and in order, and reads it
// where it lies: nothing is copied per subscriber. The overflow policy,
// chosen at create, says what a full ring does:
//  - block: publishers wait for the slowest live subscriber. One that died
//    holds nobody up for long: a waiting publisher asks every
//    peer_check_interval (20 ms) whether the subscribers it waits for still
//    live, and drops those that certainly do not.
//  - drop_oldest: publishers never wait. A subscriber that falls a ring
//    behind loses the oldest messages, and missed() counts them exactly.
//    Its reads are copies, checked after the fact: a publisher may
//    overwrite what it reads at any moment.
//
// Records and wrap markers are detail/ring.hpp's; each carries its sequence
// number, which is how a subscriber counts what it missed. The shared state
// follows the same rules as Channel's: fixed-width fields at fixed offsets,
// a magic/version header, every value read once into private memory and
// checked before use, so a peer that writes any bytes here makes calls fail
// with invalid_argument ("corrupt ...") and never makes them read or write
// outside the ring. Waiting blocks in the kernel after a short spin, which
// yields the CPU when subscribers and a publisher outnumber the CPUs.
#pragma once

#include <filemap/detail/atomic64.hpp>
#include <filemap/detail/block.hpp>
#include <filemap/detail/deadline.hpp>
#include <filemap/detail/factory.hpp>
#include <filemap/detail/fence.hpp>
#include <filemap/detail/hold.hpp>
#include <filemap/detail/mapping.hpp>
#include <filemap/detail/platform.hpp>
#include <filemap/detail/receiver.hpp>
#include <filemap/detail/ring.hpp>
#include <filemap/detail/sender.hpp>
#include <filemap/detail/snapshot.hpp>
#include <filemap/detail/steps.hpp>
#include <filemap/detail/wake.hpp>
#include <filemap/error.hpp>
#include <filemap/loan.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>

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

/// What a Topic's publishers do when its ring is full.
enum class Overflow : std::uint32_t {
    block = 1,       ///< wait for the slowest live subscriber
    drop_oldest = 2, ///< never wait: slow subscribers lose the oldest messages
};

class Subscriber;

/// The publishing side of a one-to-many message ring shared by processes,
/// by name. Moves leave the source empty; every operation on an empty,
/// closed or moved-from Topic is bad_file_descriptor. create() and
/// open_or_create() come from NamedFactory, with the largest message, in
/// bytes, and the Overflow policy after the name (invalid_argument for a
/// size of 0 or an unknown policy; open_or_create: an existing topic for
/// smaller messages is result_out_of_range, one of the other policy
/// invalid_argument).
class Topic : public detail::NamedFactory<Topic, std::size_t, Overflow>,
              public detail::Sender<Topic> {
public:
    /// How many subscribers a topic has room for at once.
    static constexpr std::size_t max_subscribers = 64;

    /// An empty topic: is_open() is false.
    Topic() noexcept = default;

    /// Opens an existing topic. no_such_file_or_directory if there is none,
    /// invalid_argument if the name holds something else (or another layout
    /// version), timed_out if its creator never finished building it.
    /// Throws std::system_error.
    static Topic open(std::string_view name)
    {
        return invoke(detail::Disposition::open, name, Options{}, nullptr);
    }
    /// open(), reporting a failure in `ec` (and returning an empty topic).
    static Topic open(std::string_view name, std::error_code& ec)
    {
        return invoke(detail::Disposition::open, name, Options{}, &ec);
    }

    /// Publishes `message` to every subscriber, blocking while the ring is
    /// full (Overflow::block; drop_oldest never waits). Throws
    /// std::system_error: message_size for a message larger than
    /// capacity(), invalid_argument for corrupt shared state,
    /// bad_file_descriptor if closed.
    void publish(std::span<const std::byte> message)
    {
        send_until("publish", message, std::nullopt);
    }
    /// Publishes the characters of `text` (no '\0' is added); fails as publish() does.
    void publish(std::string_view text)
    {
        publish(std::as_bytes(std::span(text.data(), text.size())));
    }
    /// Publishes only if there is room now; fails as publish() does.
    bool try_publish(std::span<const std::byte> message)
    {
        return send_until("try_publish", message, detail::now_only());
    }
    /// Publishes if there is room within `timeout`; fails as publish() does.
    template <class Rep, class Period>
    bool publish_for(std::span<const std::byte> message,
                     const std::chrono::duration<Rep, Period>& timeout)
    {
        return send_until("publish_for", message, detail::deadline_after(timeout));
    }

    // prepare(), try_prepare(), prepare_for(): detail::Sender.

    /// How many subscribers the topic has now (dead ones count until a
    /// publisher or a subscriber finds them gone); 0 when closed.
    std::size_t subscribers() const noexcept
    {
        std::size_t count = 0;
        if (const Layout* layout = block_.layout_if_open()) {
            for (const Member& member : layout->members) {
                count += std::atomic_ref<const std::uint32_t>(member.state)
                             .load(std::memory_order_relaxed) == active;
            }
        }
        return count;
    }
    /// The largest message this topic carries, in bytes; 0 when closed.
    std::size_t capacity() const noexcept { return block_.attached().capacity; }
    /// What publishers do when the ring is full; Overflow::block when closed.
    Overflow overflow() const noexcept { return block_.attached().overflow; }
    /// Whether this holds a topic; false when empty, closed or moved from.
    bool is_open() const noexcept { return block_.is_open(); }
    /// The name as given; "" when closed.
    std::string_view name() const noexcept { return block_.name(); }
    /// True if the call that made this topic created it (open_or_create says which).
    bool created() const noexcept { return block_.created(); }
    /// Unmaps the topic; idempotent. A Loan it lent must have ended.
    void close() noexcept { block_.close(); }

private:
    friend class detail::NamedFactory<Topic, std::size_t, Overflow>;
    friend class detail::Sender<Topic>;
    friend class Subscriber;

    using Lock = detail::os::ProcessMutex;
    using Hold = detail::Hold;

    static constexpr std::uint32_t active = 0x42555341; // "ASUB": a member slot in use

    /// One subscriber, as every process sees it: who it is (to tell
    /// whether it still lives) and how far it has read.
    struct Member {
        std::uint32_t state; ///< active, or anything else for free
        std::uint32_t id;    ///< its ProcessMark
        std::uint32_t scope;
        std::uint32_t reserved;
        std::uint64_t start;
        std::uint64_t head; ///< the next byte it reads; it alone writes this
        std::uint64_t padding[4];
    };
    static_assert(sizeof(Member) == 64);

    /// The shared layout: fixed-width fields at the same offsets in 32- and
    /// 64-bit processes. Any process that maps it may write any bytes here
    /// at any time: each value is read once into private memory and checked
    /// before use.
    struct Layout {
        detail::BlockHeader header;
        alignas(8) std::uint64_t capacity;
        alignas(8) std::uint64_t ring_size;
        std::uint32_t overflow;
        std::uint32_t member_count;
        Lock::Slot publish_lock;            // publishers, and subscribing
        alignas(64) std::uint64_t tail;     // bytes published
        std::uint64_t reserve;              // bytes published or being written
        std::uint64_t oldest;               // the oldest record still whole
        std::uint64_t sequence;             // messages ever published
        detail::WakeSlot data;              // subscribers sleep here for messages
        alignas(64) detail::WakeSlot space; // publishers sleep here for room
        alignas(64) Member members[max_subscribers];
        alignas(64) std::byte ring[16]; // ring_size bytes from here on
    };
    static constexpr std::size_t ring_offset = offsetof(Layout, ring);
    static_assert(offsetof(Layout, capacity) == 24 && offsetof(Layout, tail) == 64 &&
                      offsetof(Layout, space) == 128 && offsetof(Layout, members) == 192 &&
                      ring_offset == 192 + 64 * max_subscribers,
                  "the same layout in every process, whatever its word size");
    static constexpr std::size_t max_capacity = 0x3FFFFF00; // two fit in 32-bit sizes
    static constexpr const char* noun = "topic";
    static constexpr detail::BlockKind kind{0x4F544D46 /* "FMTO" */, 1, sizeof(Layout), ring_offset,
                                            noun};

    /// This process's side of the topic: its kernel objects, and the
    /// geometry and policy it checked when it attached.
    struct Attached {
        Lock publish_lock;
        detail::Wakeup data;
        detail::Wakeup space;
        std::size_t capacity = 0;
        std::uint64_t ring_size = 0;
        Overflow overflow = Overflow::block;
    };

    static bool is_policy(std::uint32_t value) noexcept
    {
        return value == static_cast<std::uint32_t>(Overflow::block) ||
               value == static_cast<std::uint32_t>(Overflow::drop_oldest);
    }
    static const char* policy_name(std::uint32_t value) noexcept
    {
        return value == static_cast<std::uint32_t>(Overflow::block) ? "block" : "drop_oldest";
    }

    static Topic make(const detail::NamedRequest& request, detail::Error& error)
    {
        const std::size_t capacity = request.size;
        const std::uint32_t policy = request.choice;
        if (request.disposition != detail::Disposition::open) {
            if (capacity == 0 || capacity > max_capacity) {
                error.set(std::errc::invalid_argument,
                          "capacity must be 1 to " + std::to_string(max_capacity) + " bytes");
                return {};
            }
            if (!is_policy(policy)) {
                error.set(std::errc::invalid_argument,
                          "unknown overflow policy " + std::to_string(policy));
                return {};
            }
        }
        const std::string name(request.name);
        const auto build = [&](Layout& layout, Attached&, detail::Error& failure) {
            layout.capacity = capacity;
            layout.ring_size = 2 * detail::record_size(capacity);
            layout.overflow = policy;
            layout.member_count = max_subscribers;
            Lock::attach(layout.publish_lock, detail::derived_name(name, "publish"), true, failure);
            return !failure;
        };
        const auto attach = [&](Layout& layout, std::size_t mapped, Attached& attached,
                                detail::Error& failure) {
            // Read once, then checked in an order in which nothing overflows.
            const std::uint64_t found = detail::read_once(layout.capacity);
            const std::uint64_t ring_size = detail::read_once(layout.ring_size);
            const std::uint32_t found_policy = detail::read_once(layout.overflow);
            if (found == 0 || found > max_capacity || ring_size != 2 * detail::record_size(found) ||
                ring_size > mapped - ring_offset || !is_policy(found_policy) ||
                detail::read_once(layout.member_count) != max_subscribers) {
                failure.set(std::errc::invalid_argument,
                            "corrupt header: capacity " + std::to_string(found) + ", ring " +
                                std::to_string(ring_size) + " bytes, policy " +
                                std::to_string(found_policy) + ", in an object of " +
                                std::to_string(mapped));
                return false;
            }
            if (found < capacity) {
                failure.set(std::errc::result_out_of_range,
                            "the topic carries " + std::to_string(found) +
                                "-byte messages, asked for " + std::to_string(capacity));
                return false;
            }
            if (request.disposition != detail::Disposition::open && found_policy != policy) {
                failure.set(std::errc::invalid_argument,
                            std::string("the topic's overflow policy is ") +
                                policy_name(found_policy) + ", asked for " + policy_name(policy));
                return false;
            }
            attached.capacity = static_cast<std::size_t>(found);
            attached.ring_size = ring_size;
            attached.overflow = static_cast<Overflow>(found_policy);
            attached.publish_lock = Lock::attach(
                layout.publish_lock, detail::derived_name(name, "publish"), false, failure);
            attached.data = detail::Wakeup::attach(detail::derived_name(name, "data"), failure);
            attached.space = detail::Wakeup::attach(detail::derived_name(name, "space"), failure);
            return !failure;
        };
        const auto bytes =
            static_cast<std::size_t>(ring_offset + 2 * detail::record_size(capacity));
        Topic made;
        made.block_ = Block::make(request, kind, bytes, build, attach, error);
        return made;
    }

    detail::Ring ring_of(Layout& layout) const noexcept
    {
        return {reinterpret_cast<std::byte*>(&layout) + ring_offset, block_.attached().ring_size};
    }

    Hold lock_senders(const char* operation, Layout& layout, const detail::Deadline& deadline)
    {
        return Hold(block_.attached().publish_lock, layout.publish_lock, operation, name(),
                    deadline);
    }

    void copy_in(std::byte* to, std::span<const std::byte> message) const noexcept
    {
        if (overflow() == Overflow::drop_oldest) {
            // Subscribers may be reading this very place: word by word, as
            // they read it (detail/snapshot.hpp).
            detail::store_words(to, message.data(), message.size());
        } else {
            std::memcpy(to, message.data(), message.size());
        }
    }

    /// Waits (holding the publish lock) until a record of `length` payload
    /// bytes fits whole at the tail, after a wrap marker if it would cross
    /// the end of the ring (under Overflow::block: until every live
    /// subscriber has read what it would cover); then announces the bytes
    /// it will write and forgets the records they cover. Returns where the
    /// record goes; nullopt if the deadline passed.
    std::optional<std::uint64_t> reserve(const char* operation, Layout& layout, std::size_t length,
                                         const detail::Deadline& deadline)
    {
        Attached& self = block_.attached();
        const detail::Ring ring = ring_of(layout);
        const std::uint64_t at = detail::Atomic64(layout.tail).load(std::memory_order_relaxed);
        const std::uint64_t need = detail::record_size(length);
        const std::uint64_t skip = ring.skip_before(at, need);
        const std::uint64_t end = at + skip + need;
        if (!detail::Ring::aligned(at)) {
            detail::throw_error(operation, name(), std::errc::invalid_argument,
                                "corrupt tail " + std::to_string(at));
        }
        if (self.overflow == Overflow::block) {
            auto next_check = detail::Clock::now() + detail::peer_check_interval;
            const auto room = [&] {
                if (has_room(operation, layout, at, end)) {
                    return true;
                }
                if (const auto now = detail::Clock::now(); now >= next_check) {
                    drop_gone_members(layout, at, end);
                    next_check = now + detail::peer_check_interval;
                }
                return false;
            };
            if (!self.space.wait(layout.space, room, deadline)) {
                return std::nullopt;
            }
        }
        // Subscribers take a record as whole only if `reserve` did not pass
        // it by the time they finished reading: announce before writing,
        // after saying where the oldest whole record now starts.
        forget_covered(layout, ring, at, skip, end);
        detail::Atomic64(layout.reserve).store(end, std::memory_order_release);
        detail::release_fence(); // then the bytes, loaned ones too (detail/fence.hpp)
        if (skip != 0) {
            ring.mark_wrap(at);
        }
        return at + skip;
    }

    /// Whether every active subscriber has read what [.., end) covers.
    bool has_room(const char* operation, Layout& layout, std::uint64_t at, std::uint64_t end) const
    {
        const std::uint64_t ring_size = block_.attached().ring_size;
        for (std::size_t i = 0; i < max_subscribers; ++i) {
            Member& member = layout.members[i];
            if (std::atomic_ref<std::uint32_t>(member.state).load(std::memory_order_acquire) !=
                active) {
                continue;
            }
            const std::uint64_t head =
                detail::Atomic64(member.head).load(std::memory_order_acquire);
            if (head > at || at - head > ring_size) {
                detail::throw_error(operation, name(), std::errc::invalid_argument,
                                    "corrupt subscriber " + std::to_string(i) + ": head " +
                                        std::to_string(head) + ", tail " + std::to_string(at));
            }
            if (end - head > ring_size) {
                return false;
            }
        }
        return true;
    }

    /// Drops the subscribers that hold [.., end) up and certainly died.
    void drop_gone_members(Layout& layout, std::uint64_t at, std::uint64_t end) noexcept
    {
        const std::uint64_t ring_size = block_.attached().ring_size;
        for (Member& member : layout.members) {
            std::atomic_ref<std::uint32_t> state(member.state);
            const std::uint64_t head =
                detail::Atomic64(member.head).load(std::memory_order_acquire);
            if (state.load(std::memory_order_acquire) == active && head <= at &&
                end - head > ring_size && process_gone(member)) {
                std::uint32_t expected = active;
                state.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
            }
        }
    }

    static bool process_gone(Member& member) noexcept
    {
        const detail::ProcessMark mark{detail::read_once(member.id),
                                       detail::read_once(member.scope),
                                       detail::read_once(member.start)};
        return detail::os::process_gone(mark);
    }

    /// Moves `oldest` past the records that [at + skip - ring, end -
    /// ring) will overwrite. Records are the publishers' own, but any peer
    /// may have written them: one that does not chain forgets everything.
    void forget_covered(Layout& layout, const detail::Ring& ring, std::uint64_t at,
                        std::uint64_t skip, std::uint64_t end) const noexcept
    {
        detail::Atomic64 oldest_word(layout.oldest);
        std::uint64_t oldest = oldest_word.load(std::memory_order_relaxed);
        const std::uint64_t ring_size = ring.size();
        if (oldest > at || at - oldest > ring_size || !detail::Ring::aligned(oldest)) {
            oldest = at + skip; // nothing older can be trusted
        }
        while (oldest < at && end - oldest > ring_size) {
            const detail::Record record = ring.look(oldest, at - oldest, capacity());
            if (record.kind == detail::Record::Kind::corrupt) {
                oldest = at + skip;
                break;
            }
            oldest += record.size;
        }
        if (oldest == at && skip != 0) {
            oldest = at + skip; // the marker is no record to start at
        }
        oldest_word.store(oldest, std::memory_order_release);
    }

    /// Publishes the record of `length` bytes whose payload is in place at `at`.
    void publish(Layout& layout, std::uint64_t at, std::size_t length) noexcept
    {
        detail::Atomic64 sequence(layout.sequence);
        const std::uint64_t number = sequence.load(std::memory_order_relaxed);
        const std::uint64_t end = at + detail::record_size(length);
        ring_of(layout).write_header(at, static_cast<std::uint32_t>(length), number);
        sequence.store(number + 1, std::memory_order_relaxed);
        detail::Atomic64(layout.reserve).store(end, std::memory_order_relaxed);
        detail::Atomic64(layout.tail).store(end, std::memory_order_release);
        FILEMAP_STEP(send_published);
        block_.attached().data.notify(layout.data);
    }

    using Block = detail::Block<Layout, Attached>;
    Block block_;
};

/// A subscription to a Topic: receives every message published after it
/// subscribed, whole and in order. Move-only; every operation on an empty,
/// closed or moved-from Subscriber is bad_file_descriptor. Receiving is for
/// one thread at a time (a Subscriber is one reader, with no lock).
class Subscriber : public detail::Receiver<Subscriber> {
public:
    /// An empty subscriber: is_open() is false.
    Subscriber() noexcept = default;
    /// Takes over `other`'s subscription; `other` is left empty.
    Subscriber(Subscriber&& other) noexcept { *this = std::move(other); }
    /// Unsubscribes, then takes over `other`'s subscription.
    Subscriber& operator=(Subscriber&& other) noexcept
    {
        if (this != &other) {
            close();
            topic_ = std::move(other.topic_);
            member_ = other.member_;
            self_ = other.self_;
            head_ = other.head_;
            next_ = other.next_;
            missed_ = other.missed_;
            scratch_ = std::move(other.scratch_);
            spin_ = other.spin_;
            takes_ = other.takes_;
        }
        return *this;
    }
    /// Unsubscribes.
    ~Subscriber() { close(); }

    /// Subscribes to the existing topic `name`: fails as Topic::open() does,
    /// with no_buffer_space when it has max_subscribers live ones already,
    /// and with timed_out when the publish lock (which subscribing takes, so
    /// that no message is half published) stays held for 5 s: a full
    /// Overflow::block topic whose publisher waits for a slow subscriber, or
    /// a peer that made the lock look held. Throws std::system_error.
    static Subscriber open(std::string_view name) { return subscribe(name, nullptr); }
    /// open(), reporting a failure in `ec` (and returning an empty subscriber).
    static Subscriber open(std::string_view name, std::error_code& ec)
    {
        return subscribe(name, &ec);
    }

    // receive(), try_receive(), receive_for(), receive_string(),
    // receive_with(), try_receive_with(), receive_with_for(): detail::Receiver.

    /// How many messages this subscriber lost since it subscribed: under
    /// drop_oldest, those overwritten before it read them.
    std::uint64_t missed() const noexcept { return missed_; }
    /// The largest message the topic carries, in bytes; 0 when closed.
    std::size_t capacity() const noexcept { return topic_.capacity(); }
    /// The topic's overflow policy; Overflow::block when closed.
    Overflow overflow() const noexcept { return topic_.overflow(); }
    /// Whether this holds a subscription; false when empty, closed or moved from.
    bool is_open() const noexcept { return topic_.is_open(); }
    /// The topic's name as given; "" when closed.
    std::string_view name() const noexcept { return topic_.name(); }
    /// Unsubscribes and unmaps the topic; idempotent.
    void close() noexcept
    {
        if (Topic::Layout* layout = topic_.block_.layout_if_open()) {
            if (owns_member(*layout)) {
                std::atomic_ref<std::uint32_t>(layout->members[member_].state)
                    .store(0, std::memory_order_release);
                topic_.block_.attached().space.notify(layout->space);
            }
        }
        topic_.close();
    }

private:
    friend class detail::Receiver<Subscriber>;

    using Member = Topic::Member;

    static Subscriber subscribe(std::string_view name, std::error_code* ec)
    {
        return detail::dispatch("subscribe", name, ec, [&](detail::Error& error) {
            Subscriber made;
            made.topic_ = Topic::make({detail::Disposition::open, name, 0, Options{}, 0}, error);
            if (!error) {
                made.join(error);
            }
            if (error) {
                made.topic_.close();
            }
            return made;
        });
    }

    /// Takes a free member slot under the publish lock, so that no message
    /// is half published: the subscription starts exactly at the tail.
    void join(detail::Error& error)
    {
        Topic::Layout& layout = topic_.block_.layout("subscribe", Topic::noun);
        Topic::Attached& attached = topic_.block_.attached();
        // Bounded: a publisher may hold the lock a long time (a full
        // Overflow::block topic waits for its slowest subscriber), and a
        // peer may make it look held for ever.
        const detail::Locked locked = attached.publish_lock.lock(
            layout.publish_lock, detail::deadline_after(detail::build_wait), error);
        if (error) {
            return;
        }
        if (locked == detail::Locked::timed_out) {
            error.set(std::errc::timed_out,
                      "the publish lock stayed held for " +
                          std::to_string(detail::build_wait.count()) +
                          " s (a full topic waiting for a slow subscriber, or a peer)");
            return;
        }
        self_ = detail::os::this_process();
        std::optional<std::size_t> found = free_member(layout);
        if (!found) {
            for (Member& member : layout.members) { // make room: forget the dead
                if (detail::read_once(member.state) == Topic::active &&
                    Topic::process_gone(member)) {
                    std::atomic_ref<std::uint32_t>(member.state)
                        .store(0, std::memory_order_release);
                }
            }
            found = free_member(layout);
        }
        if (!found) {
            error.set(std::errc::no_buffer_space, "the topic has " +
                                                      std::to_string(Topic::max_subscribers) +
                                                      " live subscribers already");
        } else {
            member_ = *found;
            Member& member = layout.members[member_];
            head_ = detail::Atomic64(layout.tail).load(std::memory_order_relaxed);
            next_ = detail::Atomic64(layout.sequence).load(std::memory_order_relaxed);
            std::atomic_ref<std::uint32_t>(member.id).store(self_.id, std::memory_order_relaxed);
            std::atomic_ref<std::uint32_t>(member.scope)
                .store(self_.scope, std::memory_order_relaxed);
            detail::Atomic64(member.start).store(self_.start, std::memory_order_relaxed);
            detail::Atomic64(member.head).store(head_, std::memory_order_relaxed);
            std::atomic_ref<std::uint32_t>(member.state)
                .store(Topic::active, std::memory_order_release);
        }
        attached.publish_lock.unlock(layout.publish_lock);
    }

    static std::optional<std::size_t> free_member(Topic::Layout& layout) noexcept
    {
        for (std::size_t i = 0; i < Topic::max_subscribers; ++i) {
            if (detail::read_once(layout.members[i].state) != Topic::active) {
                return i;
            }
        }
        return std::nullopt;
    }

    /// Whether member slot member_ still names this subscription.
    bool owns_member(Topic::Layout& layout) const noexcept
    {
        Member& member = layout.members[member_];
        return detail::read_once(member.state) == Topic::active &&
               detail::read_once(member.id) == self_.id &&
               detail::read_once(member.start) == self_.start;
    }

    /// Waits for the next message and hands it to
    /// `deliver(std::span<const std::byte>)`, then moves on. If `deliver`
    /// throws, the message stays for the next receive.
    template <class Deliver>
    bool take(const char* operation, const detail::Deadline& deadline, Deliver&& deliver)
    {
        Topic::Layout& layout = topic_.block_.layout(operation, Topic::noun);
        Topic::Attached& attached = topic_.block_.attached();
        if (!owns_member(layout)) {
            detail::throw_error(operation, name(), std::errc::invalid_argument,
                                "the subscription was removed: its slot " +
                                    std::to_string(member_) + " names another");
        }
        const detail::Ring ring = topic_.ring_of(layout);
        const bool in_place = attached.overflow == Overflow::block;
        detail::Atomic64 tail_word(layout.tail);
        std::uint64_t tail = 0;
        if (takes_++ % recount_every == 0) { // counting reads every member's line
            spin_ = detail::spin_for(topic_.subscribers() + 1); // and a publisher
        }
        for (;;) {
            if (!attached.data.wait(
                    layout.data,
                    [&] {
                        tail = tail_word.load(std::memory_order_acquire);
                        return tail > head_;
                    },
                    deadline, spin_)) {
                return false;
            }
            if (lapped(layout)) {
                catch_up(operation, layout);
                continue;
            }
            if (tail - head_ > attached.ring_size) {
                corrupt(operation, "indices: head " + std::to_string(head_) + ", tail " +
                                       std::to_string(tail));
            }
            const detail::Record record = ring.look(head_, tail - head_, attached.capacity);
            std::span<const std::byte> message;
            if (record.kind == detail::Record::Kind::message) {
                message = std::span<const std::byte>(ring.payload(head_), record.length);
                if (!in_place) {
                    scratch_.resize((record.length + sizeof(detail::CopyWord) - 1) /
                                    sizeof(detail::CopyWord) * sizeof(detail::CopyWord));
                    detail::load_words(scratch_.data(), ring.payload(head_), record.length);
                    message = std::span<const std::byte>(scratch_.data(), record.length);
                }
            }
            // look() and load_words() read with acquire loads: whatever they
            // saw of a newer record, lapped() sees that record's `reserve`.
            if (lapped(layout)) {
                continue; // overwritten while read: counted once caught up
            }
            if (record.kind == detail::Record::Kind::corrupt) {
                corrupt(operation, "record at byte " + std::to_string(head_) + ": length " +
                                       std::to_string(record.length) + ", capacity " +
                                       std::to_string(attached.capacity));
            }
            if (record.kind == detail::Record::Kind::message) {
                deliver(message);
                if (record.sequence >= next_) {
                    missed_ += record.sequence - next_;
                    next_ = record.sequence + 1;
                }
            }
            head_ += record.size;
            detail::Atomic64(layout.members[member_].head).store(head_, std::memory_order_release);
            if (in_place) {
                attached.space.notify(layout.space);
            }
            if (record.kind == detail::Record::Kind::message) {
                return true;
            }
        }
    }

    /// Whether publishers have begun to overwrite the byte at head_.
    bool lapped(Topic::Layout& layout) const noexcept
    {
        const std::uint64_t reserve =
            detail::Atomic64(layout.reserve).load(std::memory_order_acquire);
        return reserve > head_ && reserve - head_ > topic_.block_.attached().ring_size;
    }

    /// Moves on to the oldest record still whole, once the publisher that
    /// lapped us has said where it is; the next message says how many were
    /// missed.
    void catch_up(const char* operation, Topic::Layout& layout)
    {
        const std::uint64_t reserve =
            detail::Atomic64(layout.reserve).load(std::memory_order_acquire);
        const std::uint64_t oldest =
            detail::Atomic64(layout.oldest).load(std::memory_order_acquire);
        // A sound publisher said where the oldest whole record starts before
        // it announced the reserve that lapped us: it must be past head_.
        if (oldest > reserve || oldest <= head_ || !detail::Ring::aligned(oldest)) {
            corrupt(operation, "oldest record at byte " + std::to_string(oldest) + ", head " +
                                   std::to_string(head_) + ", reserve " + std::to_string(reserve));
        }
        head_ = oldest;
        detail::Atomic64(layout.members[member_].head).store(head_, std::memory_order_release);
    }

    [[noreturn]] void corrupt(const char* operation, const std::string& what) const
    {
        detail::throw_error(operation, name(), std::errc::invalid_argument, "corrupt " + what);
    }

    Topic topic_;
    std::size_t member_ = 0;
    detail::ProcessMark self_;
    std::uint64_t head_ = 0;         // the next byte to read
    std::uint64_t next_ = 0;         // the sequence number of the next message
    std::uint64_t missed_ = 0;       // messages lost
    std::vector<std::byte> scratch_; // drop_oldest: where a message is copied and checked
    /// How this subscriber waits for messages: busy while the subscribers
    /// and a publisher fit the CPUs, recounted every recount_every receives.
    detail::Spin spin_ = detail::Spin::busy;
    std::uint32_t takes_ = 0;
    static constexpr std::uint32_t recount_every = 64;
};

} // namespace filemap
