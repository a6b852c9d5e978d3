// tests/bitness_messages.hpp - the messages the 32- and 64-bit sides of
// posix_bitness_test.cpp exchange: each one's length and bytes follow from
// its number, so the receiver checks every byte.
#pragma once

#include <cstddef>
#include <vector>

namespace bitness {

/// Message number `i` for a channel of `capacity` bytes: 1 to capacity
/// bytes long (an empty message means "stop"), so some wrap around the ring.
inline std::vector<std::byte> message(std::size_t i, std::size_t capacity)
{
    std::vector<std::byte> bytes(i * 37 % capacity + 1);
    for (std::size_t k = 0; k < bytes.size(); ++k) {
        bytes[k] = static_cast<std::byte>(i + k);
    }
    return bytes;
}

} // namespace bitness
