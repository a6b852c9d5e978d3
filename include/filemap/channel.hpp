// filemap/channel.hpp - Channel: a bounded, one-way message queue in a named mapping.
//
// Messages arrive whole and in order. Many senders and many receivers are
// safe (each side takes its robust lock); one sender with one receiver is
// the fast path. Waiting blocks in the kernel after a short spin, never in a
// sleep loop. A process killed anywhere inside send or receive wedges nobody:
// its lock is recovered and its half-done message was never published (a
// sender's) or is delivered again (a receiver's). The layout has fixed-size
// fields and a magic/version header, so opening anything else is
// invalid_argument.
//
// Ring records are [u32 length][payload], 8-byte aligned; a payload may wrap
// around the end of the ring, so a ring of align8(capacity) + 8 bytes holds
// any message up to capacity() once the receivers have drained it.
#pragma once

#include <filemap/detail/shared_block.hpp>
#include <filemap/detail/sync.hpp>
#include <filemap/error.hpp>
#include <filemap/file_mapping.hpp>
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

class Channel {
public:
    /// An empty channel: is_open() is false.
    Channel() noexcept = default;
    Channel(Channel&&) noexcept = default;
    Channel& operator=(Channel&&) noexcept = default;

    /// Creates a channel for messages of up to `capacity_bytes` each;
    /// file_exists if the name is live, invalid_argument for capacity 0.
    static Channel create(std::string_view name, std::size_t capacity_bytes,
                          const Options& options = {})
    {
        return detail::or_throw("create", name, [&](detail::Error& error) {
            return make(Disposition::create, name, capacity_bytes, options, error);
        });
    }
    static Channel create(std::string_view name, std::size_t capacity_bytes, const Options& options,
                          std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) {
            return make(Disposition::create, name, capacity_bytes, options, error);
        });
    }
    static Channel create(std::string_view name, std::size_t capacity_bytes, std::error_code& ec)
    {
        return create(name, capacity_bytes, Options{}, ec);
    }

    /// Opens an existing channel; invalid_argument if the name holds
    /// something else (or another layout version).
    static Channel open(std::string_view name)
    {
        return detail::or_throw("open", name, [&](detail::Error& error) {
            return make(Disposition::open, name, 0, Options{}, error);
        });
    }
    static Channel open(std::string_view name, std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) {
            return make(Disposition::open, name, 0, Options{}, error);
        });
    }

    /// Opens the channel, or creates it; an existing one with a smaller
    /// capacity is result_out_of_range.
    static Channel open_or_create(std::string_view name, std::size_t capacity_bytes,
                                  const Options& options = {})
    {
        return detail::or_throw("open_or_create", name, [&](detail::Error& error) {
            return make(Disposition::open_or_create, name, capacity_bytes, options, error);
        });
    }
    static Channel open_or_create(std::string_view name, std::size_t capacity_bytes,
                                  const Options& options, std::error_code& ec)
    {
        return detail::into(ec, [&](detail::Error& error) {
            return make(Disposition::open_or_create, name, capacity_bytes, options, error);
        });
    }
    static Channel open_or_create(std::string_view name, std::size_t capacity_bytes,
                                  std::error_code& ec)
    {
        return open_or_create(name, capacity_bytes, Options{}, ec);
    }

    /// Sends `message`, blocking while the channel is full. A message larger
    /// than capacity() is message_size.
    void send(std::span<const std::byte> message) { send_until("send", message, std::nullopt); }
    /// Sends the characters of `text` (no '\0' is added).
    void send(std::string_view text) { send(std::as_bytes(std::span(text.data(), text.size()))); }
    /// Sends only if there is room now.
    bool try_send(std::span<const std::byte> message)
    {
        return send_until("try_send", message, detail::Clock::now());
    }
    /// Sends if there is room within `timeout`.
    template <class Rep, class Period>
    bool send_for(std::span<const std::byte> message,
                  const std::chrono::duration<Rep, Period>& timeout)
    {
        return send_until("send_for", message, detail::deadline_after(timeout));
    }

    /// The next message, blocking until one arrives.
    std::vector<std::byte> receive() { return *receive_vector("receive", std::nullopt); }
    /// Copies the next message into `buffer` and returns its size. Too small
    /// a buffer is message_size, and the message stays for the next receive.
    std::size_t receive(std::span<std::byte> buffer)
    {
        std::size_t size = 0;
        take("receive", std::nullopt, [&](std::size_t length) {
            if (length > buffer.size()) {
                detail::Error error;
                error.set(std::errc::message_size, "the message is " + std::to_string(length) +
                                                       " bytes, the buffer " +
                                                       std::to_string(buffer.size()));
                detail::throw_error("receive", name(), error);
            }
            size = length;
            return buffer.data();
        });
        return size;
    }
    /// The next message as text.
    std::string receive_string()
    {
        std::string text;
        take("receive_string", std::nullopt, [&](std::size_t length) {
            text.resize(length);
            return reinterpret_cast<std::byte*>(text.data());
        });
        return text;
    }
    /// The next message if one is there now.
    std::optional<std::vector<std::byte>> try_receive()
    {
        return receive_vector("try_receive", detail::Clock::now());
    }
    /// The next message if one arrives within `timeout`.
    template <class Rep, class Period>
    std::optional<std::vector<std::byte>>
    receive_for(const std::chrono::duration<Rep, Period>& timeout)
    {
        return receive_vector("receive_for", detail::deadline_after(timeout));
    }

    /// The largest message this channel carries, in bytes.
    std::size_t capacity() const noexcept { return capacity_; }
    bool is_open() const noexcept { return mapping_.is_open(); }
    std::string_view name() const noexcept { return mapping_.name(); }

private:
    using Disposition = detail::BlockAccess::Disposition;

    /// The shared layout: fixed-size fields; each side's hot words on a
    /// cache line of their own.
    struct Block {
        detail::BlockHeader header;
        std::uint64_t capacity;
        std::uint64_t ring_size;
        detail::MutexSlot send_lock;
        detail::MutexSlot receive_lock;
        alignas(64) std::uint64_t tail; // bytes ever written; senders only
        detail::WakeSlot data;          // receivers sleep here for messages
        alignas(64) std::uint64_t head; // bytes ever read; receivers only
        detail::WakeSlot space;         // senders sleep here for room
        alignas(64) std::byte ring[8];  // ring_size bytes from here on
    };
    static constexpr std::uint32_t magic = 0x48434D46; // "FMCH"
    static constexpr std::size_t ring_offset = offsetof(Block, ring);
    static constexpr std::size_t max_capacity = 0x7FFFFFF0; // lengths are 32-bit

    static constexpr std::uint64_t align8(std::uint64_t n) noexcept
    {
        return (n + 7) & ~std::uint64_t{7};
    }
    static constexpr std::uint64_t record_size(std::uint64_t length) noexcept
    {
        return align8(4 + length);
    }

    static Channel make(Disposition disposition, std::string_view name, std::size_t capacity,
                        const Options& options, detail::Error& error)
    {
        if (disposition != Disposition::open && (capacity == 0 || capacity > max_capacity)) {
            error.set(std::errc::invalid_argument,
                      "capacity must be 1 to " + std::to_string(max_capacity) + " bytes");
            return {};
        }
        const std::uint64_t ring_size = align8(capacity) + 8;
        const auto build = [&](FileMapping& mapping, detail::Error& failure) {
            Block& block = block_of(mapping);
            block.capacity = capacity;
            block.ring_size = ring_size;
            detail::SharedMutex::make(block.send_lock, std::string(name) + "#send", true, failure);
            if (!failure) {
                detail::SharedMutex::make(block.receive_lock, std::string(name) + "#receive", true,
                                          failure);
            }
            return !failure;
        };
        Channel made;
        made.mapping_ = detail::BlockAccess::map(disposition, name, ring_offset + ring_size,
                                                 options, magic, 1, sizeof(Block), build, error);
        if (error) {
            return {};
        }
        if (made.mapping_.size() < ring_offset) {
            error.set(std::errc::invalid_argument, "the object is too small to be a channel");
            return {};
        }
        Block& block = block_of(made.mapping_);
        if (block.ring_size != align8(block.capacity) + 8 ||
            ring_offset + block.ring_size > made.mapping_.size()) {
            error.set(std::errc::invalid_argument, "the channel's header is inconsistent");
            return {};
        }
        if (block.capacity < capacity) {
            error.set(std::errc::result_out_of_range,
                      "the channel carries " + std::to_string(block.capacity) +
                          "-byte messages, asked for " + std::to_string(capacity));
            return {};
        }
        made.block_ = &block;
        made.capacity_ = static_cast<std::size_t>(block.capacity);
        made.ring_size_ = block.ring_size;
        made.send_lock_ =
            detail::SharedMutex::make(block.send_lock, std::string(name) + "#send", false, error);
        made.receive_lock_ = detail::SharedMutex::make(
            block.receive_lock, std::string(name) + "#receive", false, error);
        made.data_ = detail::Wakeup::make(block.data, std::string(name) + "#data", false, error);
        made.space_ = detail::Wakeup::make(block.space, std::string(name) + "#space", false, error);
        return error ? Channel{} : std::move(made);
    }

    static Block& block_of(FileMapping& mapping)
    {
        return *reinterpret_cast<Block*>(mapping.bytes().data());
    }

    std::atomic_ref<std::uint64_t> tail() const noexcept { return std::atomic_ref(block_->tail); }
    std::atomic_ref<std::uint64_t> head() const noexcept { return std::atomic_ref(block_->head); }

    /// Where absolute position `at` falls in the ring, and how many bytes of
    /// `length` fit before the ring wraps.
    std::pair<std::size_t, std::size_t> place(std::uint64_t at, std::size_t length) const noexcept
    {
        const auto offset = static_cast<std::size_t>(at % ring_size_);
        return {offset, std::min(length, static_cast<std::size_t>(ring_size_) - offset)};
    }

    void to_ring(std::uint64_t at, const void* from, std::size_t length) const noexcept
    {
        if (length != 0) {
            const auto [offset, first] = place(at, length);
            std::memcpy(block_->ring + offset, from, first);
            std::memcpy(block_->ring, static_cast<const std::byte*>(from) + first, length - first);
        }
    }

    void from_ring(std::uint64_t at, void* to, std::size_t length) const noexcept
    {
        if (length != 0) {
            const auto [offset, first] = place(at, length);
            std::memcpy(to, block_->ring + offset, first);
            std::memcpy(static_cast<std::byte*>(to) + first, block_->ring, length - first);
        }
    }

    /// Holds one side's lock for a scope; throws on a lock error.
    class Hold {
    public:
        Hold(detail::SharedMutex& mutex, const char* operation, std::string_view name,
             const detail::Deadline& deadline)
            : mutex_(mutex)
        {
            detail::Error error;
            held_ = mutex.lock(deadline, error) != detail::Locked::timed_out;
            if (error) {
                detail::throw_error(operation, name, error);
            }
        }
        Hold(const Hold&) = delete;
        Hold& operator=(const Hold&) = delete;
        ~Hold()
        {
            if (held_) {
                mutex_.unlock();
            }
        }
        explicit operator bool() const noexcept { return held_; }

    private:
        detail::SharedMutex& mutex_;
        bool held_ = false;
    };

    bool send_until(const char* operation, std::span<const std::byte> message,
                    const detail::Deadline& deadline)
    {
        if (message.size() > capacity_) {
            detail::Error error;
            error.set(std::errc::message_size, "the message is " + std::to_string(message.size()) +
                                                   " bytes, the capacity " +
                                                   std::to_string(capacity_));
            detail::throw_error(operation, name(), error);
        }
        Hold hold(send_lock_, operation, name(), deadline);
        if (!hold) {
            return false;
        }
        const std::uint64_t at = tail().load(std::memory_order_relaxed);
        const std::uint64_t need = record_size(message.size());
        if (!space_.wait(
                [&] { return at + need - head().load(std::memory_order_acquire) <= ring_size_; },
                deadline)) {
            return false;
        }
        const auto length = static_cast<std::uint32_t>(message.size());
        to_ring(at, &length, 4);
        to_ring(at + 4, message.data(), message.size());
        tail().store(at + need, std::memory_order_release); // publishes the whole record
        data_.notify();
        return true;
    }

    /// Waits for the next message, asks `target(length)` where to copy it
    /// (which may throw: the message then stays), copies it and moves on.
    template <class Target>
    bool take(const char* operation, const detail::Deadline& deadline, Target target)
    {
        Hold hold(receive_lock_, operation, name(), deadline);
        if (!hold) {
            return false;
        }
        const std::uint64_t at = head().load(std::memory_order_relaxed);
        // Likewise the last tail seen: messages below it are published.
        if (seen_tail_ <= at && !data_.wait(
                                    [&] {
                                        seen_tail_ = tail().load(std::memory_order_acquire);
                                        return seen_tail_ > at;
                                    },
                                    deadline)) {
            return false;
        }
        std::uint32_t length = 0;
        from_ring(at, &length, 4);
        if (length > capacity_) {
            detail::Error error;
            error.set(std::errc::invalid_argument, "the channel's ring is corrupt");
            detail::throw_error(operation, name(), error);
        }
        from_ring(at + 4, target(std::size_t{length}), length);
        head().store(at + record_size(length), std::memory_order_release); // frees the record
        space_.notify();
        return true;
    }

    std::optional<std::vector<std::byte>> receive_vector(const char* operation,
                                                         const detail::Deadline& deadline)
    {
        std::vector<std::byte> message;
        const bool got = take(operation, deadline, [&](std::size_t length) {
            message.resize(length);
            return message.data();
        });
        if (!got) {
            return std::nullopt;
        }
        return message;
    }

    FileMapping mapping_;
    Block* block_ = nullptr;
    std::size_t capacity_ = 0;
    std::uint64_t ring_size_ = 0;
    detail::SharedMutex send_lock_;
    detail::SharedMutex receive_lock_;
    detail::Wakeup data_;
    detail::Wakeup space_;
    std::uint64_t seen_head_ = 0; // this process's last look at the other side
    std::uint64_t seen_tail_ = 0;
};

} // namespace filemap
