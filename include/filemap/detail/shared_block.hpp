// filemap/detail/shared_block.hpp - the named mapping behind a NamedMutex or Channel.
//
// Maps the name like FileMapping does (same rules, Options, create / open /
// open_or_create), checks that an opened object is large enough and of the
// right kind, and runs the initialisation protocol of detail/sync.hpp: only
// the creator builds, openers wait until it has.
#pragma once

#include <filemap/detail/steps.hpp>
#include <filemap/detail/sync.hpp>
#include <filemap/error.hpp>
#include <filemap/file_mapping.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace filemap::detail {

/// Every shared block starts with this header.
struct BlockHeader {
    std::uint32_t state;   // 0 while being built, ready_state once built
    std::uint32_t magic;   // which kind of object
    std::uint32_t version; // which layout of it
    std::uint32_t size;    // sizeof the block, for a layout check across compilers
    WakeSlot built;        // openers wait here for `state`
};

struct BlockAccess {
    enum class Disposition { create, open, open_or_create };

    /// Maps `name` with room for `size` bytes; `build(header)` runs in the
    /// creator only, before the block is published as ready. The kernel
    /// object names of the platform's waits derive from `name` with a '#'
    /// suffix, which no valid filemap name contains.
    template <class Build>
    static FileMapping map(Disposition disposition, std::string_view name, std::size_t size,
                           const Options& options, std::uint32_t magic, std::uint32_t version,
                           std::uint32_t block_size, Build build, Error& error)
    {
        using Kind = FileMapping::Disposition;
        const Kind kind = disposition == Disposition::create ? Kind::create
                          : disposition == Disposition::open ? Kind::open
                                                             : Kind::open_or_create;
        Options asked = options;
        asked.access = Access::read_write;
        // An opener takes any size, then checks the kind before the size.
        FileMapping mapping = FileMapping::make_named(
            kind, name, disposition == Disposition::open ? 0 : size, asked, error);
        if (error) {
            return {};
        }
        if (mapping.size() < sizeof(BlockHeader)) {
            error.set(std::errc::invalid_argument, "the object is too small to be of this kind");
            return {};
        }
        auto& header = mapping.as_span<BlockHeader>(0, 1)[0];
        Wakeup built =
            Wakeup::make(header.built, std::string(name) + "#built", mapping.created(), error);
        if (error) {
            return {};
        }
        if (mapping.created()) {
            header.magic = magic;
            header.version = version;
            header.size = block_size;
            if (!build(mapping, error)) {
                return {};
            }
            FILEMAP_STEP("block: built, not yet published");
            publish_ready(header.state, built);
        } else if (!await_ready(header.state, built, error)) {
            return {};
        } else if (header.magic != magic || header.version != version ||
                   header.size != block_size) {
            error.set(std::errc::invalid_argument, header.magic != magic
                                                       ? "the object is not of this kind"
                                                       : "the object has another layout version");
            return {};
        }
        return mapping;
    }
};

} // namespace filemap::detail
