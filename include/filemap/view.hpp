// filemap/view.hpp - View: a mapped window of part of a FileMapping.
//
// Made by FileMapping::view(offset, length). The window is exactly
// [offset, offset + length) of the object (the page / allocation-granularity
// rounding happens inside), with the same typed API as FileMapping
// (detail::Window). A View holds its own handle, so its memory - and a scoped
// object's name - stay valid after the FileMapping it came from is closed.
// Useful for objects or files larger than one wants to map whole.
#pragma once

#include <filemap/detail/mapping.hpp>
#include <filemap/detail/window.hpp>

#include <cstddef>
#include <utility>

namespace filemap {

class FileMapping;

/// A window of part of a mapped object. Moves leave the source empty; every
/// operation on an empty, closed or moved-from View is bad_file_descriptor.
class View : public detail::Window {
public:
    /// An empty view: is_open() is false.
    View() noexcept = default;

    /// Where the window starts in the object: exactly the offset asked for;
    /// 0 when closed.
    std::size_t offset() const noexcept { return mapping_.offset(); }

private:
    friend class FileMapping; // the one maker of views

    explicit View(detail::Mapping mapping) noexcept : Window(std::move(mapping)) {}
};

} // namespace filemap
