// filemap/detail/block.hpp - Block: the named shared block behind a NamedMutex or Channel.
//
// A Block owns the Mapping of its name and this process's attachments to it
// (kernel handles on Windows, validated sizes), and hands out its layout
// only while it is open: an empty, closed or moved-from Block answers every
// use with bad_file_descriptor, never with memory it no longer owns.
//
// Making one runs the initialisation protocol: an object is created zeroed
// and usable by openers at once, so its first word says whether it is built.
// Only the handle that created it builds the contents, then stores "ready"
// and wakes waiters; openers wait for that with a bounded wait, then check
// that the object is of the kind they expect.
#pragma once

#include <filemap/detail/atomic64.hpp>
#include <filemap/detail/mapping.hpp>
#include <filemap/detail/steps.hpp>
#include <filemap/detail/wake.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace filemap::detail {

/// Reads a value in shared memory exactly once (a peer may change it at any
/// time: checking one read and using another would check nothing).
template <class T>
T read_once(T& shared) noexcept
{
    if constexpr (std::is_same_v<T, std::uint64_t>) {
        return Atomic64(shared).load(std::memory_order_relaxed);
    } else {
        return std::atomic_ref<T>(shared).load(std::memory_order_relaxed);
    }
}

/// Every shared block starts with this header.
struct BlockHeader {
    std::uint32_t state;   ///< 0 while being built, ready_state once built
    std::uint32_t magic;   ///< which kind of object
    std::uint32_t version; ///< which layout of it
    std::uint32_t size;    ///< sizeof the layout, for a check across compilers
    WakeSlot built;        ///< openers wait here for `state`
};

inline constexpr std::uint32_t ready_state = 0x59444552; // "REDY"

/// What kind of block a type expects to find.
struct BlockKind {
    std::uint32_t magic;
    std::uint32_t version;
    std::uint32_t layout_size; ///< sizeof(Layout), recorded by the creator
    std::size_t least_size;    ///< the fewest mapped bytes an opener can use
    const char* noun;          ///< "mutex", "channel": for messages
};

/// `value` with its bytes in the other order: how a word written by a
/// process of the other byte order reads here.
constexpr std::uint32_t swap_bytes(std::uint32_t value) noexcept
{
    return (value >> 24) | ((value >> 8) & 0xFF00) | ((value << 8) & 0xFF0000) | (value << 24);
}

/// This process's byte order and the other one, for messages.
inline constexpr const char* this_byte_order =
    std::endian::native == std::endian::little ? "little" : "big";
inline constexpr const char* other_byte_order =
    std::endian::native == std::endian::little ? "big" : "little";

/// How long an opener waits for a creator that is still building.
inline constexpr std::chrono::seconds build_wait{5};

template <class Layout, class Attached>
class Block {
    static_assert(std::is_standard_layout_v<Layout>, "a shared layout has a fixed layout");

public:
    Block() noexcept = default;
    Block(Block&& other) noexcept
        : mapping_(std::move(other.mapping_)), attached_(std::exchange(other.attached_, {}))
    {
    }
    Block& operator=(Block&& other) noexcept
    {
        mapping_ = std::move(other.mapping_);
        attached_ = std::exchange(other.attached_, {});
        return *this;
    }

    /// Maps the block `request` names, `bytes` long when created. In the
    /// creator only, `build(Layout&, Attached&, Error&)` builds the contents
    /// before they are published; in every process, `attach(Layout&,
    /// std::size_t mapped, Attached&, Error&)` checks the contents and
    /// attaches to them.
    template <class Build, class Attach>
    static Block make(const NamedRequest& request, const BlockKind& kind, std::size_t bytes,
                      Build build, Attach attach, Error& error)
    {
        if (request.options.max_size != 0) {
            error.set(std::errc::invalid_argument, "max_size is for a FileMapping: a " +
                                                       std::string(kind.noun) + " does not grow");
            return {};
        }
        NamedRequest asked = request;
        asked.options.access = access_of(request);
        asked.size = request.disposition == Disposition::open ? 0 : bytes;
        Block block;
        // Runs in the creator only, before the object can be reached by name
        // where the system allows (POSIX); on Windows openers may already
        // wait for the "ready" word it ends with.
        const auto build_block = [&](Mapping& mapping, Error& failure) {
            BlockHeader& header = header_of(mapping);
            header.magic = kind.magic;
            header.version = kind.version;
            header.size = kind.layout_size;
            if (!build(layout_of(mapping), block.attached_, failure)) {
                return false;
            }
            FILEMAP_STEP(block_built);
            std::atomic_ref<std::uint32_t>(header.state)
                .store(ready_state, std::memory_order_release);
            Wakeup built = Wakeup::attach(derived_name(request.name, "built"), failure);
            built.notify(header.built);
            return !failure;
        };
        block.mapping_ = Mapping::named(asked, error, build_block);
        if (error) {
            return {};
        }
        if (!block.mapping_.created() && !check_opened(block.mapping_, request.name, kind, error)) {
            return {};
        }
        if (block.mapping_.size() < kind.least_size) {
            error.set(std::errc::invalid_argument,
                      "the object is too small to be a " + std::string(kind.noun));
            return {};
        }
        if (!attach(block.layout(), block.mapping_.size(), block.attached_, error)) {
            return {};
        }
        return block;
    }

    /// The access a block is mapped with for `request`: read_write, except
    /// for an open that asks for read_only (a creator must build it, and
    /// open_or_create may create).
    static Access access_of(const NamedRequest& request) noexcept
    {
        return request.disposition == Disposition::open ? request.options.access
                                                        : Access::read_write;
    }

    bool is_open() const noexcept { return mapping_.is_open(); }
    std::string_view name() const noexcept { return mapping_.name(); }
    bool created() const noexcept { return mapping_.created(); }
    /// Whether this process may write the block (open may map it read-only).
    bool writable() const noexcept { return mapping_.access() == Access::read_write; }

    /// The shared layout; throws bad_file_descriptor ("the <noun> is closed")
    /// for `operation` when the block is closed.
    Layout& layout(const char* operation, const char* noun)
    {
        if (!is_open()) [[unlikely]] {
            throw_closed(operation, noun);
        }
        return layout();
    }

    /// The shared layout, or nullptr when the block is closed.
    Layout* layout_if_open() noexcept { return is_open() ? &layout() : nullptr; }
    const Layout* layout_if_open() const noexcept
    {
        return const_cast<Block*>(this)->layout_if_open();
    }

    /// This process's attachments: default values when closed.
    Attached& attached() noexcept { return attached_; }
    const Attached& attached() const noexcept { return attached_; }

    /// Unmaps and forgets the attachments; idempotent.
    void close() noexcept
    {
        mapping_.close();
        attached_ = {};
    }

private:
    /// Out of line, so that the checks above stay small enough to inline.
    [[noreturn]] [[gnu::noinline]] void throw_closed(const char* operation, const char* noun) const
    {
        Error error;
        set_closed(error, noun);
        throw_error(operation, name(), error);
    }

    Layout& layout() noexcept { return layout_of(mapping_); }
    static Layout& layout_of(Mapping& mapping) noexcept
    {
        return *reinterpret_cast<Layout*>(mapping.data());
    }
    static BlockHeader& header_of(Mapping& mapping) noexcept
    {
        return *reinterpret_cast<BlockHeader*>(mapping.data());
    }

    /// An opener's checks: big enough for a header, built (where objects do
    /// not appear whole, after a bounded wait for the creator to finish),
    /// and of the kind expected.
    static bool check_opened(Mapping& mapping, std::string_view name, const BlockKind& kind,
                             Error& error)
    {
        const std::string not_one = "the object is not a " + std::string(kind.noun);
        if (mapping.size() < sizeof(BlockHeader)) {
            error.set(std::errc::invalid_argument, not_one);
            return false;
        }
        BlockHeader& header = header_of(mapping);
        std::atomic_ref<std::uint32_t> state(header.state);
        const std::uint32_t now = state.load(std::memory_order_acquire);
        if (now == swap_bytes(ready_state) && read_once(header.magic) == swap_bytes(kind.magic)) {
            error.set(std::errc::invalid_argument,
                      std::string("the object was created by a ") + other_byte_order +
                          "-endian process, this one is " + this_byte_order + "-endian");
            return false;
        }
        if (now != ready_state && (now != 0 || os::objects_appear_whole())) {
            error.set(std::errc::invalid_argument, not_one);
            return false;
        }
        Wakeup built = Wakeup::attach(derived_name(name, "built"), error);
        if (error) {
            return false;
        }
        const auto ready = [&] {
            return state.load(std::memory_order_acquire) == ready_state;
        };
        const Deadline until = Clock::now() + build_wait;
        if (!(mapping.access() == Access::read_write ? built.wait(header.built, ready, until)
                                                     : built.watch(header.built, ready, until))) {
            error.set(std::errc::timed_out, "its creator never finished building it");
            return false;
        }
        if (header.magic != kind.magic) {
            error.set(std::errc::invalid_argument, not_one);
        } else if (header.version != kind.version || header.size != kind.layout_size) {
            error.set(std::errc::invalid_argument,
                      "the " + std::string(kind.noun) + " has another layout version");
        }
        return !error;
    }

    Mapping mapping_;
    Attached attached_;
};

} // namespace filemap::detail
