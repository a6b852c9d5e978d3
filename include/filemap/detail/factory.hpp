// filemap/detail/factory.hpp - the create / open_or_create overloads of every named type, once.
//
// FileMapping, NamedMutex and Channel are named the same way, and each offers
// the same six ways to make one: create and open_or_create, each throwing,
// with a std::error_code&, and with default Options. NamedFactory writes
// them once over the type's `make(const NamedRequest&, Error&)` (the type
// befriends its factory to let it call that); `Size...`
// is the size the type takes after the name (bytes for FileMapping, the
// largest message for Channel; none for NamedMutex). `open` differs between
// the types and stays in each.
#pragma once

#include <filemap/detail/mapping.hpp>
#include <filemap/error.hpp>
#include <filemap/options.hpp>

#include <cstddef>
#include <string_view>
#include <system_error>

namespace filemap::detail {

/// The create() and open_or_create() overloads of a named type `Object`,
/// whose size parameter, if any, is `Size...`.
template <class Object, class... Size>
class NamedFactory {
public:
    /// Creates a new object. Fails with file_exists if a live object has the
    /// name (a stale scoped one, left by crashed processes, is reclaimed);
    /// invalid_argument for a name outside the rules, a size of 0 or
    /// permissions beyond rwx bits; no_space_on_device if the memory cannot
    /// be reserved. Throws std::system_error.
    static Object create(std::string_view name, Size... size, const Options& options = {})
    {
        return invoke(Disposition::create, name, std::size_t{size...}, options, nullptr);
    }
    /// create(), reporting a failure in `ec` (and returning an empty object).
    static Object create(std::string_view name, Size... size, const Options& options,
                         std::error_code& ec)
    {
        return invoke(Disposition::create, name, std::size_t{size...}, options, &ec);
    }
    /// create() with default Options, reporting a failure in `ec`.
    static Object create(std::string_view name, Size... size, std::error_code& ec)
    {
        return invoke(Disposition::create, name, std::size_t{size...}, Options{}, &ec);
    }

    /// Opens the object if it exists, else creates it; created() says which.
    /// An existing one smaller than asked is result_out_of_range (never less
    /// than the caller will use); another user's that lets others in is
    /// permission_denied (a squatted name). Otherwise fails as create() and
    /// open() do. Throws std::system_error.
    static Object open_or_create(std::string_view name, Size... size, const Options& options = {})
    {
        return invoke(Disposition::open_or_create, name, std::size_t{size...}, options, nullptr);
    }
    /// open_or_create(), reporting a failure in `ec` (and returning an empty object).
    static Object open_or_create(std::string_view name, Size... size, const Options& options,
                                 std::error_code& ec)
    {
        return invoke(Disposition::open_or_create, name, std::size_t{size...}, options, &ec);
    }
    /// open_or_create() with default Options, reporting a failure in `ec`.
    static Object open_or_create(std::string_view name, Size... size, std::error_code& ec)
    {
        return invoke(Disposition::open_or_create, name, std::size_t{size...}, Options{}, &ec);
    }

protected:
    /// One factory call: `Object::make` does the work, dispatch() reports it.
    static Object invoke(Disposition disposition, std::string_view name, std::size_t size,
                         const Options& options, std::error_code* ec)
    {
        const NamedRequest request{disposition, name, size, options};
        return dispatch(operation_name(disposition), name, ec,
                        [&](Error& error) { return Object::make(request, error); });
    }
};

} // namespace filemap::detail
