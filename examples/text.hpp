// text.hpp - UTF-8 <-> UTF-16 for the examples' --wide mode: the program's
// side of the conversion (filemap stores the code units it is given).
#pragma once

#include <string>
#include <string_view>

namespace example {

/// UTF-16 from UTF-8 (malformed bytes become U+FFFD).
inline std::u16string to_utf16(std::string_view utf8)
{
    std::u16string out;
    for (std::size_t i = 0; i < utf8.size();) {
        const auto byte = [&](std::size_t k) {
            return static_cast<unsigned char>(utf8[i + k]);
        };
        const unsigned char lead = byte(0);
        const std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        char32_t c = length == 1 ? lead : static_cast<char32_t>(lead & (0x7F >> length));
        bool ok = lead < 0x80 || (lead >= 0xC2 && lead <= 0xF4 && i + length <= utf8.size());
        for (std::size_t k = 1; ok && k < length; ++k) {
            ok = (byte(k) & 0xC0) == 0x80;
            c = c << 6 | (byte(k) & 0x3F);
        }
        if (!ok) {
            out += u'\uFFFD';
            ++i;
            continue;
        }
        if (c >= 0x10000) {
            out += static_cast<char16_t>(0xD800 + ((c - 0x10000) >> 10));
            out += static_cast<char16_t>(0xDC00 + ((c - 0x10000) & 0x3FF));
        } else {
            out += static_cast<char16_t>(c);
        }
        i += length;
    }
    return out;
}

/// UTF-8 from UTF-16 (a lone surrogate becomes U+FFFD).
inline std::string to_utf8(std::u16string_view utf16)
{
    std::string out;
    for (std::size_t i = 0; i < utf16.size(); ++i) {
        char32_t c = utf16[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < utf16.size() && utf16[i + 1] >= 0xDC00 &&
            utf16[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (utf16[++i] - 0xDC00);
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        const int length = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        static const unsigned char lead[] = {0, 0x00, 0xC0, 0xE0, 0xF0};
        out += static_cast<char>(lead[length] | (c >> (6 * (length - 1))));
        for (int k = length - 2; k >= 0; --k) {
            out += static_cast<char>(0x80 | ((c >> (6 * k)) & 0x3F));
        }
    }
    return out;
}

} // namespace example
