// names_offsets_fuzz: libFuzzer over the places hostile input reaches
// filemap before any system call - the name rules, the offset/length
// arithmetic of the typed API, and the max_size a growable object records. Built with clang
// -fsanitize=fuzzer,address, undefined; any crash, sanitizer report or failed check below is a bug.
//
// Input: first byte picks the target; the rest is a name, an operation
// with a 64-bit offset and length against a 4099-byte mapping, or the text
// of a max_size attribute.
#include <filemap/filemap.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void fail(const char* what)
{
    __builtin_trap(); // reported by libFuzzer with the input that caused it
    (void)what;
}

/// The length of the well-formed UTF-8 sequence at the start of `text`,
/// 0 if there is none: Unicode's table of well-formed byte sequences
/// (Table 3-7), written as ranges, independently of filemap's decoder.
std::size_t well_formed(std::string_view text)
{
    struct Row {
        unsigned char first[2];
        unsigned char second[2];
        std::size_t length;
    };
    static const Row rows[] = {
        {{0x00, 0x7F}, {0, 0}, 1},       {{0xC2, 0xDF}, {0x80, 0xBF}, 2},
        {{0xE0, 0xE0}, {0xA0, 0xBF}, 3}, {{0xE1, 0xEC}, {0x80, 0xBF}, 3},
        {{0xED, 0xED}, {0x80, 0x9F}, 3}, {{0xEE, 0xEF}, {0x80, 0xBF}, 3},
        {{0xF0, 0xF0}, {0x90, 0xBF}, 4}, {{0xF1, 0xF3}, {0x80, 0xBF}, 4},
        {{0xF4, 0xF4}, {0x80, 0x8F}, 4},
    };
    const auto byte = [&](std::size_t i) {
        return static_cast<unsigned char>(text[i]);
    };
    for (const Row& row : rows) {
        if (byte(0) < row.first[0] || byte(0) > row.first[1] || text.size() < row.length) {
            continue;
        }
        if (row.length > 1 && (byte(1) < row.second[0] || byte(1) > row.second[1])) {
            return 0;
        }
        for (std::size_t i = 2; i < row.length; ++i) {
            if (byte(i) < 0x80 || byte(i) > 0xBF) {
                return 0;
            }
        }
        return row.length;
    }
    return 0;
}

/// The rules, written again as plainly as possible: the oracle.
bool allowed(std::string_view name)
{
    for (const std::string_view prefix : {"Local\\", "Global\\"}) {
        if (name.substr(0, prefix.size()) == prefix) {
            name.remove_prefix(prefix.size());
            break;
        }
    }
    if (name.empty() || name.size() > filemap::detail::max_name_length || name == "." ||
        name == "..") {
        return false;
    }
    while (!name.empty()) {
        const std::size_t length = well_formed(name);
        if (length == 0) {
            return false;
        }
        const auto c = static_cast<unsigned char>(name[0]);
        const auto c1 = length > 1 ? static_cast<unsigned char>(name[1]) : 0;
        const bool control = c < 0x20 || c == 0x7F || (c == 0xC2 && c1 >= 0x80 && c1 <= 0x9F);
        if (control || c == '/' || c == '\\' || c == '#') {
            return false;
        }
        name.remove_prefix(length);
    }
    return true;
}

void fuzz_name(std::string_view name)
{
    filemap::detail::Error error;
    const filemap::detail::Name parsed = filemap::detail::parse_name(name, error);
    if (allowed(name) == static_cast<bool>(error)) {
        fail("parse_name disagrees with the rules");
    }
    if (!error &&
        (parsed.base.empty() || parsed.prefix.size() + parsed.base.size() != name.size())) {
        fail("an accepted name was split wrongly");
    }
    if (error && (error.code() != std::errc::invalid_argument || error.detail().empty())) {
        fail("a refusal without invalid_argument and a reason");
    }
}

std::uint64_t take64(const std::uint8_t*& data, std::size_t& size)
{
    std::uint64_t value = 0;
    const std::size_t n = size < 8 ? size : 8;
    std::memcpy(&value, data, n);
    data += n;
    size -= n;
    return value;
}

void fuzz_offsets(const std::uint8_t* data, std::size_t size)
{
    static filemap::FileMapping mapping = filemap::FileMapping::anonymous(4099);
    if (size < 1) {
        return;
    }
    const std::uint8_t op = data[0] % 10;
    ++data;
    --size;
    const auto offset = static_cast<std::size_t>(take64(data, size));
    const auto length = static_cast<std::size_t>(take64(data, size));
    const bool fits = offset <= mapping.size() && length <= mapping.size() - offset;
    static std::vector<std::byte> buffer(8192);
    // A length beyond the buffer can only be tried where it cannot fit.
    if (length > buffer.size() && fits) {
        return;
    }
    const std::span<std::byte> span(buffer.data(), length > buffer.size() ? buffer.size() : length);
    // The rest of the input as UTF-16 code units, for the wide writes.
    std::u16string text16(size / 2, u'\0');
    std::memcpy(text16.data(), data, text16.size() * 2);
    bool threw = false;
    try {
        switch (op) {
        case 0: mapping.write(std::span<const std::byte>(span), offset); break;
        case 1: mapping.read(span, offset); break;
        case 2: mapping.read_string(offset); break;
        case 3:
            mapping.write(std::string_view(reinterpret_cast<const char*>(data), size), offset);
            break;
        case 4: mapping.as_span<std::uint32_t>(offset, length); break;
        case 5: mapping.write_value(length, offset); break;
        case 6: (void)mapping.read_value<std::uint64_t>(offset); break;
        case 7: mapping.read_wstring(offset); break;
        case 8: mapping.read_u16string(offset); break;
        case 9: mapping.write(std::u16string_view(text16.data(), text16.size()), offset); break;
        }
    } catch (const std::out_of_range&) {
        threw = true;
    } catch (const std::system_error& e) {
        threw = true;
        if (op != 4 || e.code() != std::errc::invalid_argument) {
            fail("an unexpected error code");
        }
    }
    // Plain operations must refuse exactly what does not fit.
    if ((op == 0 || op == 1) && length <= buffer.size() && threw == fits) {
        fail("a bounds check disagrees with offset + length <= size");
    }
    // A string write fits with its terminator, or throws; reads throw only past the end.
    const auto fits_bytes = [&](std::size_t bytes) {
        return offset <= mapping.size() && bytes <= mapping.size() - offset;
    };
    if ((op == 3 && threw == fits_bytes(size + 1)) ||
        (op == 9 && threw == fits_bytes((text16.size() + 1) * 2))) {
        fail("a string write disagrees with offset + text + terminator <= size");
    }
    if ((op == 2 || op == 7 || op == 8) && threw != (offset > mapping.size())) {
        fail("a string read refused an offset inside, or took one outside");
    }
}

/// A max_size attribute is 1 to 20 decimal digits whose value is 1 to
/// 2^64 - 1; the oracle computes it in 128 bits.
void fuzz_max_size(std::string_view text)
{
    unsigned __int128 value = 0;
    bool digits = !text.empty() && text.size() <= 20;
    for (const char c : text) {
        digits = digits && c >= '0' && c <= '9';
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    const bool valid = digits && value != 0 && value <= ~std::uint64_t{0};
    filemap::detail::Error error;
    const std::uint64_t parsed = filemap::detail::posix::parse_max_size(text, error);
    if (valid == static_cast<bool>(error) || (valid && parsed != value)) {
        fail("parse_max_size disagrees with the rule");
    }
    if (error && error.code() != std::errc::invalid_argument) {
        fail("a corrupt max_size that is not invalid_argument");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 3) {
    case 0: fuzz_name(rest); break;
    case 1: fuzz_offsets(data + 1, size - 1); break;
    default: fuzz_max_size(rest); break;
    }
    return 0;
}
