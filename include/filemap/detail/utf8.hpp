// filemap/detail/utf8.hpp - UTF-8 decoding for names, and their UTF-16 form for Windows.
//
// Names are UTF-8 on every platform. They are checked once, strictly (no
// overlong forms, no surrogates, nothing past U+10FFFF), before any system
// call; Windows then gets the same characters as UTF-16. Platform-free.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace filemap::detail {

/// One decoded character: its code point and how many bytes it took; a
/// length of 0 says the bytes at that place are not well-formed UTF-8.
struct CodePoint {
    char32_t value = 0;
    std::size_t length = 0;
};

/// Decodes the character that starts at byte `at` of `text`.
inline CodePoint decode_utf8(std::string_view text, std::size_t at) noexcept
{
    const auto byte = [&](std::size_t i) {
        return static_cast<unsigned char>(text[at + i]);
    };
    const unsigned char lead = byte(0);
    if (lead < 0x80) {
        return {lead, 1};
    }
    std::size_t length = 0;
    char32_t value = 0;
    char32_t least = 0; // the smallest value this length may encode (no overlong forms)
    if ((lead & 0xE0) == 0xC0) {
        length = 2, value = lead & 0x1F, least = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3, value = lead & 0x0F, least = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4, value = lead & 0x07, least = 0x10000;
    } else {
        return {};
    }
    if (text.size() - at < length) {
        return {};
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) {
            return {};
        }
        value = value << 6 | (byte(i) & 0x3F);
    }
    if (value < least || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return {};
    }
    return {value, length};
}

/// The UTF-16 form of well-formed UTF-8 `text` (as checked by decode_utf8),
/// in code units of `Unit` (char16_t, or wchar_t on Windows).
template <class Unit>
std::basic_string<Unit> utf8_to_utf16(std::string_view text)
{
    std::basic_string<Unit> units;
    units.reserve(text.size());
    for (std::size_t at = 0; at < text.size();) {
        const CodePoint c = decode_utf8(text, at);
        if (c.length == 0) {
            units += static_cast<Unit>(0xFFFD); // not reached for a checked name
            ++at;
            continue;
        }
        if (c.value < 0x10000) {
            units += static_cast<Unit>(c.value);
        } else {
            const char32_t above = c.value - 0x10000;
            units += static_cast<Unit>(0xD800 + (above >> 10));
            units += static_cast<Unit>(0xDC00 + (above & 0x3FF));
        }
        at += c.length;
    }
    return units;
}

} // namespace filemap::detail
