// filemap/view.hpp - View: a mapped window of part of a FileMapping.
//
// Made by FileMapping::view(offset, length). The window is exactly
// [offset, offset + length) of the object (the page / allocation-granularity
// rounding happens inside), with the same typed API as FileMapping. A View
// holds its own handle, so its memory - and a scoped object's name - stay
// valid after the FileMapping it came from is closed. Useful for objects or
// files larger than one wants to map whole.
#pragma once

#include <filemap/detail/mapped_access.hpp>
#include <filemap/detail/platform.hpp>
#include <filemap/error.hpp>
#include <filemap/options.hpp>
#include <filemap/typed_access.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace filemap {

class FileMapping;

class View : public detail::MappedAccess<View> {
public:
    /// An empty view: is_open() is false.
    View() noexcept = default;
    View(View&& other) noexcept { swap(other); }
    View& operator=(View&& other) noexcept
    {
        if (this != &other) {
            close();
            swap(other);
        }
        return *this;
    }
    ~View() = default;

    void swap(View& other) noexcept
    {
        handle_.swap(other.handle_);
        region_.swap(other.region_);
        name_.swap(other.name_);
        std::swap(offset_, other.offset_);
        std::swap(access_, other.access_);
    }

    bool is_open() const noexcept { return region_.data() != nullptr; }
    explicit operator bool() const noexcept { return is_open(); }
    /// Where the window starts in the object: exactly the offset asked for.
    std::size_t offset() const noexcept { return offset_; }
    std::size_t size() const noexcept { return region_.size(); }
    std::string_view name() const noexcept { return name_; }
    Access access() const noexcept { return access_; }

    std::span<std::byte> bytes() noexcept { return {region_.data(), region_.size()}; }
    std::span<const std::byte> bytes() const noexcept { return {region_.data(), region_.size()}; }

    void close() noexcept
    {
        region_.reset(); // first: a live mapping would keep the object's locks
        handle_.close();
        name_.clear();
        offset_ = 0;
        access_ = Access::read_write;
    }

private:
    friend class FileMapping;
    friend class detail::MappedAccess<View>;

    View(detail::Handle handle, detail::Region region, std::string name, std::size_t offset,
         Access access) noexcept
        : handle_(std::move(handle)), region_(std::move(region)), name_(std::move(name)),
          offset_(offset), access_(access)
    {
    }

    detail::Handle handle_; // destroyed last: a scoped handle's close needs the region gone
    detail::Region region_;
    std::string name_;
    std::size_t offset_ = 0;
    Access access_ = Access::read_write;
};

} // namespace filemap
