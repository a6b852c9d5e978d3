// names_offsets_fuzz: libFuzzer over the two places hostile input reaches
// filemap before any system call - the name rules and the offset/length
// arithmetic of the typed API. Built with clang -fsanitize=fuzzer,address,
// undefined; any crash, sanitizer report or failed check below is a bug.
//
// Input: first byte picks the target; the rest is a name, or an operation
// with a 64-bit offset and length against a 4099-byte mapping.
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
    for (const char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
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
    const std::uint8_t op = data[0] % 7;
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
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    if (data[0] % 2 == 0) {
        fuzz_name(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    } else {
        fuzz_offsets(data + 1, size - 1);
    }
    return 0;
}
