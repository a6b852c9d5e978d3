// filemap/detail/region.hpp - Region: an owned mapping of a window of an object.
//
// Shared by both platforms: included by detail/posix.hpp and
// detail/win32.hpp after they define unmap() and flush_range(), the only
// system calls a view makes. The window's start need not be aligned: the
// mapping begins `skip` bytes earlier, on the platform's boundary.
#pragma once

#include <cstddef>
#include <utility>

namespace filemap::detail {

class Region {
public:
    Region() noexcept = default;
    Region(void* base, std::size_t mapped, std::size_t skip, std::size_t size) noexcept
        : base_(base), mapped_(mapped), data_(static_cast<std::byte*>(base) + skip), size_(size)
    {
    }
    Region(Region&& other) noexcept { swap(other); }
    Region& operator=(Region&& other) noexcept
    {
        Region(std::move(other)).swap(*this);
        return *this;
    }
    ~Region() { reset(); }

    void swap(Region& other) noexcept
    {
        std::swap(base_, other.base_);
        std::swap(mapped_, other.mapped_);
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
    }

    std::byte* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

    void reset() noexcept
    {
        if (base_ != nullptr) {
            unmap(base_, mapped_);
        }
        base_ = nullptr;
        mapped_ = 0;
        data_ = nullptr;
        size_ = 0;
    }

    /// Writes changed pages back; for a file, to the disk before returning.
    void flush(const Handle& handle, Error& error) const
    {
        if (base_ != nullptr) {
            flush_range(base_, mapped_, handle, error);
        }
    }

private:
    void* base_ = nullptr;
    std::size_t mapped_ = 0;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace filemap::detail
