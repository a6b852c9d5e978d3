// tests/shared_types.hpp - the T's of the Shared<T> tests, seen alike by the
// 64-bit test binary and the 32-bit peer (tests/bitness_peer.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace shared_types {

/// Fixed-width fields only, and aligned alike in 32- and 64-bit processes
/// (a 64-bit member is aligned to 4 in a 32-bit x86 struct without alignas).
struct alignas(8) Counter {
    std::uint64_t count;
    std::uint32_t writer; // who wrote last
    std::uint32_t spare;
    static constexpr std::string_view type_tag = "filemap test Counter v1";
};

/// The same fields without alignas: 16 bytes everywhere, aligned to 8 in a
/// 64-bit process and to 4 in a 32-bit one.
struct Unaligned {
    std::uint64_t count;
    std::uint32_t writer;
    std::uint32_t spare;
};

/// `long` is 8 bytes in a 64-bit Linux process and 4 in a 32-bit one.
struct WithLong {
    std::int32_t id;
    long value;
};

/// A value whose words all follow from its first: a torn copy shows.
struct alignas(8) Checked {
    std::uint64_t words[31];
    std::uint64_t checksum;
    static constexpr std::string_view type_tag = "filemap test Checked v1";
};

/// Value number `n`: every word differs, and the checksum covers them.
inline Checked checked(std::uint64_t n)
{
    Checked value{};
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < 31; ++i) {
        value.words[i] = n * 0x9E3779B97F4A7C15ULL + i;
        sum += value.words[i] ^ (std::uint64_t{i} << 32);
    }
    value.checksum = sum;
    return value;
}

/// Which value `value` claims to be (its first word says).
inline std::uint64_t number_of(const Checked& value)
{
    return value.words[0] * 0xF1DE83E19937733DULL; // the multiplier's inverse mod 2^64
}

/// Whether `value` is whole: all of one value's words, not a mix of two.
inline bool whole(const Checked& value)
{
    const Checked expected = checked(number_of(value));
    return std::memcmp(&expected, &value, sizeof value) == 0;
}

} // namespace shared_types
