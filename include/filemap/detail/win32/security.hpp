// filemap/detail/win32/security.hpp - the DACL a new named object gets on Windows.
//
// Built from POSIX permission bits, so Options::permissions means the same on
// both platforms: full access for this process's user, group bits for the
// local Users group (BU), others bits for Everyone (WD). Protected, so
// nothing is inherited from the namespace.
#pragma once

#include <filemap/detail/win32/api.hpp>
#include <filemap/error.hpp>

#include <filesystem>
#include <string>

namespace filemap::detail::win {

/// The section rights that POSIX read / write / execute bits stand for.
inline unsigned long section_rights(std::filesystem::perms read, std::filesystem::perms write,
                                    std::filesystem::perms execute, std::filesystem::perms asked)
{
    using std::filesystem::perms;
    unsigned long rights = 0;
    if ((asked & read) != perms::none) {
        rights |= file_map_read | section_query;
    }
    if ((asked & write) != perms::none) {
        rights |= file_map_write;
    }
    if ((asked & execute) != perms::none) {
        rights |= file_map_execute;
    }
    return rights;
}

/// The SID of the user running this process, as text ("S-1-5-21-...").
/// GetTokenInformation is looked up rather than declared: its parameter is
/// an enum that cannot be declared compatibly with <windows.h>.
inline std::wstring current_user_sid(Error& error)
{
    using GetTokenInformation = int(__stdcall*)(void*, int, void*, unsigned long, unsigned long*);
    static const auto get_information =
        reinterpret_cast<GetTokenInformation>(reinterpret_cast<void*>(
            GetProcAddress(GetModuleHandleW(L"advapi32.dll"), "GetTokenInformation")));
    void* token = nullptr;
    if (get_information == nullptr ||
        !OpenProcessToken(GetCurrentProcess(), 0x0008 /* TOKEN_QUERY */, &token)) {
        set_win32(error, GetLastError(), "reading the process token");
        return {};
    }
    alignas(void*) unsigned char buffer[256];
    unsigned long length = 0;
    const int got = get_information(token, 1 /* TokenUser */, buffer, sizeof buffer, &length);
    const unsigned long code = GetLastError();
    CloseHandle(token);
    wchar_t* text = nullptr;
    if (!got || !ConvertSidToStringSidW(*reinterpret_cast<void**>(buffer), &text)) {
        set_win32(error, got ? GetLastError() : code, "reading the user's SID");
        return {};
    }
    std::wstring sid(text);
    LocalFree(text);
    return sid;
}

/// A self-relative security descriptor built from POSIX permission bits:
/// full access for this process's user, group bits for the local Users group
/// (BU), others bits for Everyone (WD). Protected, so nothing is inherited.
class SecurityDescriptor {
public:
    SecurityDescriptor(std::filesystem::perms asked, Error& error)
    {
        using std::filesystem::perms;
        std::wstring sddl = L"D:P";
        const auto ace = [&](unsigned long rights, const wchar_t* who) {
            if (rights != 0) {
                sddl += L"(A;;0x" + hex(rights) + L";;;" + who + L")";
            }
        };
        const std::wstring owner = current_user_sid(error);
        if (error) {
            return;
        }
        // The owner always gets full access, as the owner of a POSIX object can
        // always chmod it; plain programs open with FILE_MAP_ALL_ACCESS.
        sddl += L"(A;;GA;;;" + owner + L")";
        ace(section_rights(perms::group_read, perms::group_write, perms::group_exec, asked), L"BU");
        ace(section_rights(perms::others_read, perms::others_write, perms::others_exec, asked),
            L"WD");
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), 1, &descriptor_,
                                                                  nullptr)) {
            set_win32(error, GetLastError(), "building the security descriptor");
        }
    }
    SecurityDescriptor(const SecurityDescriptor&) = delete;
    SecurityDescriptor& operator=(const SecurityDescriptor&) = delete;
    ~SecurityDescriptor()
    {
        if (descriptor_ != nullptr) {
            LocalFree(descriptor_);
        }
    }
    SecurityAttributes attributes() const noexcept
    {
        return {sizeof(SecurityAttributes), descriptor_, 0};
    }

private:
    static std::wstring hex(unsigned long value)
    {
        std::wstring text;
        do {
            text.insert(text.begin(), L"0123456789ABCDEF"[value % 16]);
            value /= 16;
        } while (value != 0);
        return text;
    }
    void* descriptor_ = nullptr;
};

} // namespace filemap::detail::win
