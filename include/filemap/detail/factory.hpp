// filemap/detail/factory.hpp - the create / open_or_create overloads of every named type, once.
//
// FileMapping, NamedMutex and Channel are named the same way, and each offers
// the same six ways to make one: create and open_or_create, each throwing,
// with a std::error_code&, and with default Options. NamedFactory writes
// them once over the type's `make(const NamedRequest&, Error&)` (the type
// befriends its factory to let it call that); `Size...` is what the type
// takes after the name: bytes for FileMapping, the largest message for
// Channel, that and the overflow policy for Topic, none for NamedMutex. `open` differs between
// the types and stays in each.
#pragma once

#include <filemap/detail/mapping.hpp>
#include <filemap/error.hpp>
#include <filemap/options.hpp>

#include <cstddef>
#include <cstdint>
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
        return invoke(Disposition::create, name, options, nullptr, size...);
    }
    /// create(), reporting a failure in `ec` (and returning an empty object).
    static Object create(std::string_view name, Size... size, const Options& options,
                         std::error_code& ec)
    {
        return invoke(Disposition::create, name, options, &ec, size...);
    }
    /// create() with default Options, reporting a failure in `ec`.
    static Object create(std::string_view name, Size... size, std::error_code& ec)
    {
        return invoke(Disposition::create, name, Options{}, &ec, size...);
    }

    /// Opens the object if it exists, else creates it; created() says which.
    /// An existing one smaller than asked is result_out_of_range (never less
    /// than the caller will use); another user's that lets others in is
    /// permission_denied (a squatted name). Otherwise fails as create() and
    /// open() do. Throws std::system_error.
    static Object open_or_create(std::string_view name, Size... size, const Options& options = {})
    {
        return invoke(Disposition::open_or_create, name, options, nullptr, size...);
    }
    /// open_or_create(), reporting a failure in `ec` (and returning an empty object).
    static Object open_or_create(std::string_view name, Size... size, const Options& options,
                                 std::error_code& ec)
    {
        return invoke(Disposition::open_or_create, name, options, &ec, size...);
    }
    /// open_or_create() with default Options, reporting a failure in `ec`.
    static Object open_or_create(std::string_view name, Size... size, std::error_code& ec)
    {
        return invoke(Disposition::open_or_create, name, Options{}, &ec, size...);
    }

protected:
    /// One factory call: `Object::make` does the work, dispatch() reports it.
    /// `given` is what the type takes after the name: its size, then (Topic)
    /// a choice of its own.
    template <class... Given>
    static Object invoke(Disposition disposition, std::string_view name, const Options& options,
                         std::error_code* ec, Given... given)
    {
        const NamedRequest request = request_of(disposition, name, options, given...);
        return dispatch(operation_name(disposition), name, ec,
                        [&](Error& error) { return Object::make(request, error); });
    }

private:
    static NamedRequest request_of(Disposition disposition, std::string_view name,
                                   const Options& options, std::size_t size = 0)
    {
        return {disposition, name, size, options, 0};
    }
    template <class Choice>
    static NamedRequest request_of(Disposition disposition, std::string_view name,
                                   const Options& options, std::size_t size, Choice choice)
    {
        return {disposition, name, size, options, static_cast<std::uint32_t>(choice)};
    }
};

} // namespace filemap::detail
