// filemap/detail/port.hpp - the contract every platform port implements, written once.
//
// A port is the thin layer between filemap and one operating system: an
// owned handle, the system calls over it, and the kernel's locks and waits.
// It holds no policy (sizes, retries, which error a missing name is: see
// detail/mapping.hpp) beyond what its system forces on it.
//
// The functions are declared here, in namespace filemap::detail::os, and
// each port defines them with qualified names (`inline Handle
// os::open_named(...) { ... }`): a definition whose signature drifts from
// this list does not compile, and one that is missing does not link. The
// port's classes are checked against the concepts below by static_assert.
// Platform-free: this header compiles anywhere.
#pragma once

#include <filemap/detail/deadline.hpp>
#include <filemap/error.hpp>
#include <filemap/name.hpp>
#include <filemap/options.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace filemap::detail {

/// What a new named object must be.
struct NewObject {
    std::size_t size = 0;
    Lifetime lifetime = Lifetime::scoped;
    std::filesystem::perms permissions =
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
    bool reserve = true;      ///< back every page now (else sparse)
    bool huge_pages = false;  ///< Windows: a SEC_LARGE_PAGES section
    std::size_t max_size = 0; ///< growable up to this many bytes; 0: fixed
};

/// Which window of an object to map, and how.
struct MapRequest {
    std::uint64_t offset = 0; ///< need not be aligned: the port rounds down inside
    std::size_t length = 0;
    Access access = Access::read_write;
    bool prefault = false;
    bool huge_pages = false;
    /// Growable (offset 0 only): address space for this many bytes is kept
    /// from the start, of which `length` bytes are mapped now (0 is fine).
    std::size_t capacity = 0;
};

/// A mapped range as the system made it: [base, base + length) is mapped,
/// and the window asked for starts `skip` bytes in. A growable one owns
/// [base, base + reserved), of which the first `length` bytes are usable.
struct Mapped {
    void* base = nullptr;
    std::size_t length = 0;
    std::size_t skip = 0;
    std::size_t reserved = 0; ///< 0: not growable
};

/// A process as shared memory names it (Topic's subscribers): fixed-width
/// fields, the same in 32- and 64-bit processes, nothing a pointer.
struct ProcessMark {
    std::uint32_t id = 0;    ///< its process id
    std::uint32_t scope = 0; ///< where that id means it (POSIX: its PID namespace)
    std::uint64_t start = 0; ///< when it started, in the system's units; 0 if unknown
};

namespace os {

/// An owned native handle (descriptor / HANDLE): movable, the source left
/// empty; closing it never throws. Each port defines it, with
/// `native_handle_type`, `native() const`, `explicit operator bool`,
/// `release()` and a constructor that adopts a native handle.
class Handle;

// ---- named objects (1 system call on Windows; a protocol on POSIX) --------

/// Creates an object for `name` exactly as `object` says, for the caller to
/// build and then publish(). Where the system allows (POSIX), nobody can
/// reach it by the name until then; on Windows the name is taken at once
/// and a live object there is file_exists here.
Handle create_named(const Name& name, const NewObject& object, Error& error);
/// Makes the object create_named() returned reachable by `name`, fully
/// built. file_exists if a live object has the name; on POSIX a stale scoped
/// one is reclaimed, and one only its other owner may remove is
/// permission_denied. Nothing to do where creating already named it.
void publish_named(Handle& handle, const Name& name, Error& error);
/// Whether every named object appears whole (publish_named links a built
/// object): then an opener never waits for a creator still building.
bool objects_appear_whole() noexcept;
/// Opens the existing object `name`; never creates, and sets `size` to its
/// size (as object_size() would). no_such_file_or_directory if there is none.
Handle open_named(const Name& name, Access access, std::uint64_t& size, Error& error);
/// Whether an object that open_or_create found may be handed out as if it
/// had created it: another user's object is permission_denied, whatever
/// its mode (a squatter owns its object and may change the mode at will).
void check_adoptable(const Handle& handle, Error& error);
/// Removes the name; false if there was none. not_supported where names
/// cannot outlive their handles.
bool remove_named(const Name& name, Error& error);

// ---- unnamed objects and files ----------------------------------------------

/// Unnamed zeroed memory of `size` bytes, every page backed, not inherited.
Handle create_unnamed(std::size_t size, Error& error);
/// Checks that `handle` (adopted from the caller) is something mappable.
void check_mappable(const Handle& handle, Error& error);
/// Opens the file at `path`; never creates it.
Handle open_file(const std::filesystem::path& path, Access access, Error& error);
/// Makes an opened file mappable as `size` bytes, growing it if it is
/// shorter (only asked for with read_write access).
void prepare_file(Handle& handle, std::size_t size, Access access, Error& error);

// ---- any handle -----------------------------------------------------------

/// The size of the object or file now, in bytes.
std::uint64_t object_size(const Handle& handle, Error& error);
/// A second handle that keeps the object (and a scoped name) alive alone.
Handle duplicate(const Handle& handle, Error& error);
/// Whether child processes started from now on inherit the handle.
void set_inheritable(const Handle& handle, bool inheritable, Error& error);

// ---- views ----------------------------------------------------------------

/// Maps the window `request` asks for.
Mapped map(const Handle& handle, const MapRequest& request, Error& error);
/// Unmaps what map() returned. Never fails.
void unmap(const Mapped& mapped) noexcept;
/// Writes changed pages back; for a file, to the disk before returning.
void flush(const Mapped& mapped, const Handle& handle, Error& error);
/// A hint about how [data, data + size) will be used.
void advise(std::byte* data, std::size_t size, Advice advice, Error& error);

// ---- growth (a map() with a capacity) ------------------------------------------

/// The max_size a named object's creator gave it, as any opener learns it;
/// 0 for an object that cannot grow.
std::uint64_t growth_limit(const Handle& handle, Error& error);
/// Makes the object at least `to` bytes (within `mapped`'s capacity), the
/// new bytes zero and backed now: a full system fails here, never as a fault
/// later. Never shrinks it, whoever else grows it at the same time. The
/// first `from` bytes are backed already (what this handle has mapped), so
/// a grow costs what it adds, not what the object holds.
void extend(Handle& handle, Mapped& mapped, std::size_t from, std::size_t to, Error& error);
/// How many bytes of the object exist now, as another process learns it
/// (more than `mapped` may have made usable yet).
std::uint64_t extent(const Handle& handle, const Mapped& mapped, Error& error);
/// Makes the first `request.length` bytes of a growable mapping usable; the
/// address never changes.
void map_more(const Handle& handle, Mapped& mapped, const MapRequest& request, Error& error);

// ---- peers ------------------------------------------------------------------

/// The calling process, as this_process() of a peer would be compared with it.
ProcessMark this_process() noexcept;
/// True only if the process `mark` names has certainly ended (or its id
/// now names a process started at another time). Anything uncertain - a
/// process of another scope, one the system will not describe - lives.
bool process_gone(const ProcessMark& mark) noexcept;

} // namespace os

/// A lock shared by processes, attached to its slot in shared memory: the
/// port's `os::ProcessMutex`. `Slot` is its shared part; the object itself is
/// this process's attachment (a kernel handle on Windows, nothing on POSIX).
/// Every call names the slot, so the object never keeps a pointer into a
/// mapping it does not own.
template <class Mutex>
concept ProcessMutexPort = std::default_initializable<Mutex> && std::movable<Mutex> &&
    requires(Mutex mutex, typename Mutex::Slot& slot, std::string_view kernel_name, bool build,
             const Deadline& deadline, Error& error)
{
    {
        Mutex::attach(slot, kernel_name, build, error)
        } -> std::same_as<Mutex>;
    {
        mutex.lock(slot, deadline, error)
        } -> std::same_as<Locked>;
    {
        mutex.unlock(slot)
    }
    noexcept;
};

/// The kernel half of a wait (detail/wake.hpp has the shared half): the
/// port's `os::WakeEvent`. `sleep` blocks until `wake` or the deadline, or
/// returns at once if `*word` no longer equals `seen` (a futex's rule; a
/// Windows event may return spuriously, which the caller tolerates).
template <class Event>
concept WakeEventPort = std::default_initializable<Event> && std::movable<Event> &&
    requires(Event event, std::uint32_t& word, std::uint32_t seen, std::string_view kernel_name,
             const Deadline& deadline, Error& error)
{
    {
        Event::attach(kernel_name, error)
        } -> std::same_as<Event>;
    {
        event.sleep(word, seen, deadline)
    }
    noexcept;
    {
        event.wake(word)
    }
    noexcept;
};

} // namespace filemap::detail
