// mailbox.hpp - the layout 05-sender and 06-receiver share: fixed-size fields only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mailbox {

inline constexpr const char* name = "filemap-mailbox";

struct Mailbox {
    std::uint32_t sent;  // messages written so far
    std::uint32_t taken; // messages the receiver has taken
    char text[256];      // the current message, '\0'-terminated
};

inline constexpr std::size_t text_offset = offsetof(Mailbox, text);

} // namespace mailbox
