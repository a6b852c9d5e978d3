// filemap/detail/mapped_access.hpp - the API FileMapping and View share: the
// typed reads and writes of TypedAccess, plus flush() and advise() over the
// mapped region. Written once here, so the two classes cannot drift apart.
#pragma once

#include <filemap/detail/platform.hpp>
#include <filemap/error.hpp>
#include <filemap/options.hpp>
#include <filemap/typed_access.hpp>

#include <system_error>

namespace filemap::detail {

/// CRTP base: `Derived` has a Handle `handle_` and a Region `region_`, and
/// befriends this class.
template <class Derived>
class MappedAccess : public TypedAccess<Derived> {
public:
    /// A hint about how the memory will be used (see Advice).
    void advise(Advice advice)
    {
        or_throw("advise", self().name(), [&](Error& error) {
            detail::advise(self().region_.data(), self().region_.size(), advice, error);
            return !error;
        });
    }

    /// Writes changed pages back: for a file, to the disk before returning.
    /// A no-op for read_only and copy_on_write mappings.
    void flush()
    {
        or_throw("flush", self().name(), [&](Error& error) { return sync(error); });
    }
    void flush(std::error_code& ec) noexcept
    {
        Error error;
        sync(error);
        ec = error.code();
    }

private:
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }

    bool sync(Error& error) const
    {
        if (self().access() == Access::read_write) {
            self().region_.flush(self().handle_, error);
        }
        return !error;
    }
};

} // namespace filemap::detail
