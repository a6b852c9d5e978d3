// filemap/detail/type_record.hpp - what a Shared<T> object says about its T, and the checks on it.
//
// A struct shared by raw bytes is only the same struct if both programs lay
// it out the same way: same size and alignment, same byte order, and the
// same meaning, which only the user can name (a type tag they bump when the
// layout changes). The creator records these in fixed-width fields, the
// same bytes in 32- and 64-bit processes; an opener compares them with its
// own T and names the first difference. The pointer width is recorded to
// explain a difference, not as one: a T of fixed-width fields is shared by
// 32- and 64-bit processes alike. Platform-free.
#pragma once

#include <filemap/detail/block.hpp>
#include <filemap/error.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace filemap::detail {

/// The longest type tag, in bytes.
inline constexpr std::size_t max_type_tag = 64;

/// Written by the creator in its own byte order; reads swapped in the other.
inline constexpr std::uint32_t byte_order_mark = 0x01020304;

/// The record, at a fixed offset after the block header.
struct TypeRecord {
    std::uint32_t byte_order;   ///< byte_order_mark, as the creator wrote it
    std::uint32_t pointer_bits; ///< the creator's pointer width: 32 or 64
    std::uint32_t size;         ///< sizeof(T)
    std::uint32_t alignment;    ///< alignof(T)
    std::uint32_t tag_size;     ///< bytes of `tag` in use; 0: T has no tag
    std::uint32_t reserved;
    char tag[max_type_tag];
};
static_assert(sizeof(TypeRecord) == 88, "the same record in every process");

/// T's type tag: T::type_tag if it declares one, else empty.
template <class T>
constexpr std::string_view type_tag_of() noexcept
{
    if constexpr (requires { std::string_view(T::type_tag); }) {
        return std::string_view(T::type_tag);
    } else {
        return {};
    }
}

/// This process's record of T.
template <class T>
TypeRecord type_record_of() noexcept
{
    constexpr std::string_view tag = type_tag_of<T>();
    static_assert(tag.size() <= max_type_tag, "T::type_tag is longer than 64 bytes");
    TypeRecord record{};
    record.byte_order = byte_order_mark;
    record.pointer_bits = static_cast<std::uint32_t>(sizeof(void*) * 8);
    record.size = static_cast<std::uint32_t>(sizeof(T));
    record.alignment = static_cast<std::uint32_t>(alignof(T));
    record.tag_size = static_cast<std::uint32_t>(tag.size());
    tag.copy(record.tag, tag.size());
    return record;
}

/// "a 24", "an 8", "an 18": the article a number takes when read aloud.
inline std::string a_number(std::uint32_t n)
{
    const std::string digits = std::to_string(n);
    const bool eleven_or_eighteen =
        digits.size() % 3 == 2 && (digits.rfind("11", 0) == 0 || digits.rfind("18", 0) == 0);
    return (digits[0] == '8' || eleven_or_eighteen ? "an " : "a ") + digits;
}

/// The first difference between the record `found` in an object (copied out
/// of shared memory once) and `ours`, as a message; "" if they agree.
inline std::string type_mismatch(const TypeRecord& found, const TypeRecord& ours)
{
    const auto bits = [](std::uint32_t pointer_bits) {
        return std::to_string(pointer_bits) + "-bit";
    };
    // Said after a size or alignment difference when the word sizes differ too.
    const std::string because =
        found.pointer_bits == ours.pointer_bits
            ? std::string()
            : " (it was created by a " + bits(found.pointer_bits) + " process, this one is " +
                  bits(ours.pointer_bits) +
                  ": long, size_t, pointers and the alignment of 64-bit members differ between "
                  "them; use fixed-width types and an explicit alignas)";
    if (found.byte_order == swap_bytes(byte_order_mark)) {
        return std::string("the object was created by a ") + other_byte_order +
               "-endian process, this one is " + this_byte_order + "-endian";
    }
    if (found.byte_order != byte_order_mark || found.tag_size > max_type_tag ||
        (found.pointer_bits != 32 && found.pointer_bits != 64)) {
        return "corrupt header: not a type record";
    }
    if (found.size != ours.size) {
        return "the object holds " + a_number(found.size) + "-byte T, this program's T is " +
               std::to_string(ours.size) + " bytes" + because;
    }
    if (found.alignment != ours.alignment) {
        return "the object holds a T aligned to " + std::to_string(found.alignment) +
               " bytes, this program's T is aligned to " + std::to_string(ours.alignment) + because;
    }
    const std::string_view expected(ours.tag, ours.tag_size);
    const std::string_view held(found.tag, found.tag_size);
    if (!expected.empty() && held != expected) {
        return "type tag " + quoted(expected) + " expected, " +
               (held.empty() ? std::string("the object has none") : "found " + quoted(held));
    }
    return {};
}

} // namespace filemap::detail
