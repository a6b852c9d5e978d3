// tests/closed_test.cpp - empty, closed and moved-from objects of every public type.
//
// DESIGN.md, "Closed objects": every operation other than close(), the
// destructor, assignment and the observers is bad_file_descriptor with
// "... is closed" - never a crash, never out_of_range about "0 bytes", never
// a silent success. A moved-from object is empty and stays so while its
// successor works; the successor works after the source is gone. (This file
// runs under ASan, TSan and valgrind in CI like every other.)
#include "support.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <system_error>
#include <utility>

using filemap::Channel;
using filemap::FileMapping;
using filemap::NamedMutex;
using filemap::View;

namespace {

/// The call throws std::system_error with bad_file_descriptor, saying "is closed".
template <class Call>
void check_closed(Call&& call)
{
    const std::string what = test::thrown_what(call);
    CHECK(test::thrown_code(call) == std::errc::bad_file_descriptor);
    CHECK(what.find("is closed") != std::string::npos);
}

/// Every operation of the typed API that FileMapping and View share.
template <class Window>
void check_window_closed(Window& window)
{
    CHECK_FALSE(window.is_open());
    CHECK_FALSE(window);
    CHECK(window.size() == 0);
    CHECK(window.name().empty());
    CHECK(window.bytes().empty());
    CHECK(std::as_const(window).bytes().empty());

    std::array<std::byte, 4> buffer{};
    std::array<int, 2> ints{};
    check_closed([&] { window.write(std::span<const std::byte>(buffer)); });
    check_closed([&] { window.write(std::span(ints)); });
    check_closed([&] { window.write("text"); });
    check_closed([&] { window.write(std::string_view()); });
    check_closed([&] { window.write_value(42); });
    check_closed([&] { window.read(std::span<std::byte>(buffer)); });
    check_closed([&] { window.read(std::span(ints)); });
    check_closed([&] { window.read(std::span<std::byte>()); });
    check_closed([&] { (void)window.read_string(); });
    check_closed([&] { (void)window.template read_value<int>(); });
    check_closed([&] { (void)window.template as_span<int>(0, 0); });
    check_closed([&] { (void)window.template as_span<const int>(0, 1); });
    check_closed([&] { (void)std::as_const(window).template as_span<const int>(0, 1); });
    check_closed([&] { window.flush(); });
    check_closed([&] { window.advise(filemap::Advice::willneed); });
    std::error_code ec;
    window.flush(ec);
    CHECK(ec == std::errc::bad_file_descriptor);
    ec.clear();
    window.advise(filemap::Advice::normal, ec);
    CHECK(ec == std::errc::bad_file_descriptor);
    window.close(); // idempotent
    CHECK_FALSE(window.is_open());
}

void check_mapping_closed(FileMapping& mapping)
{
    check_window_closed(mapping);
    CHECK_FALSE(mapping.created());
    check_closed([&] { mapping.view(0, 1); });
    check_closed([&] { std::as_const(mapping).view(0, 1); });
    check_closed([&] { mapping.set_inheritable(true); });
    std::error_code ec;
    mapping.set_inheritable(false, ec);
    CHECK(ec == std::errc::bad_file_descriptor);
    ec.clear();
    CHECK_FALSE(mapping.view(0, 1, filemap::Access::read_only, ec));
    CHECK(ec == std::errc::bad_file_descriptor);
}

void check_mutex_closed(NamedMutex& mutex)
{
    CHECK_FALSE(mutex.is_open());
    CHECK(mutex.name().empty());
    CHECK_FALSE(mutex.previous_owner_died());
    check_closed([&] { mutex.lock(); });
    check_closed([&] { (void)mutex.try_lock(); });
    check_closed([&] { (void)mutex.try_lock_for(std::chrono::milliseconds(1)); });
    check_closed([&] { mutex.unlock(); });
    mutex.close();
    CHECK_FALSE(mutex.is_open());
}

void check_channel_closed(Channel& channel)
{
    CHECK_FALSE(channel.is_open());
    CHECK(channel.name().empty());
    CHECK(channel.capacity() == 0);
    std::array<std::byte, 8> buffer{};
    check_closed([&] { channel.send(std::span<const std::byte>(buffer)); });
    check_closed([&] { channel.send("text"); });
    check_closed([&] { (void)channel.try_send(std::span<const std::byte>(buffer)); });
    check_closed([&] {
        (void)channel.send_for(std::span<const std::byte>(buffer), std::chrono::milliseconds(1));
    });
    check_closed([&] { (void)channel.receive(); });
    check_closed([&] { (void)channel.receive(std::span<std::byte>(buffer)); });
    check_closed([&] { (void)channel.receive_string(); });
    check_closed([&] { (void)channel.try_receive(); });
    check_closed([&] { (void)channel.receive_for(std::chrono::milliseconds(1)); });
    channel.close();
    CHECK_FALSE(channel.is_open());
}

} // namespace

TEST_CASE("a default-constructed object of every type refuses every operation", "[closed]")
{
    FileMapping mapping;
    check_mapping_closed(mapping);
    View view;
    check_window_closed(view);
    CHECK(view.offset() == 0);
    NamedMutex mutex;
    check_mutex_closed(mutex);
    Channel channel;
    check_channel_closed(channel);
}

TEST_CASE("a moved-from FileMapping and View are empty; the successor works alone", "[closed]")
{
    FileMapping source = FileMapping::create(test::unique_name("moved"), 4096);
    FileMapping target = std::move(source);
    check_mapping_closed(source);
    target.write("still here");
    CHECK(target.read_string() == "still here");

    View window = target.view(4000, 96);
    View moved = std::move(window);
    check_window_closed(window);
    CHECK(moved.offset() == 4000);
    moved.write_value(7);
    CHECK(target.read_value<int>(4000) == 7);

    FileMapping assigned;
    assigned = std::move(target); // assignment takes over; the source is empty
    check_mapping_closed(target);
    CHECK(assigned.read_string() == "still here");
    assigned.close();
    check_mapping_closed(assigned);
    CHECK(moved.read_value<int>() == 7); // a View outlives the mapping it came from
}

TEST_CASE("a moved-from NamedMutex is empty and no longer locks its successor", "[closed]")
{
    NamedMutex source = NamedMutex::create(test::unique_name("moved-mutex"));
    NamedMutex target = std::move(source);
    check_mutex_closed(source);
    target.lock();
    CHECK_FALSE(source.is_open());
    target.unlock();
    {
        NamedMutex gone = std::move(target);
        check_mutex_closed(target);
        CHECK(gone.try_lock());
        gone.unlock();
    } // the successor is closed now; the sources must still refuse, not crash
    check_mutex_closed(source);
    check_mutex_closed(target);
}

TEST_CASE("a moved-from Channel is empty and does not send through its successor", "[closed]")
{
    Channel source = Channel::create(test::unique_name("moved-channel"), 64);
    Channel target = std::move(source);
    check_channel_closed(source);
    CHECK(target.capacity() == 64);
    target.send("one");
    CHECK(target.receive_string() == "one");
    Channel assigned;
    assigned = std::move(target);
    check_channel_closed(target);
    assigned.send("two");
    CHECK(assigned.receive_string() == "two");
    assigned.close();
    check_channel_closed(assigned);
    check_channel_closed(source);
}

TEST_CASE("closing an object in use leaves it refusing every operation", "[closed]")
{
    FileMapping mapping = FileMapping::create(test::unique_name("closing"), 64);
    mapping.close();
    check_mapping_closed(mapping);
    NamedMutex mutex = NamedMutex::create(test::unique_name("closing-mutex"));
    mutex.close();
    check_mutex_closed(mutex);
    Channel channel = Channel::create(test::unique_name("closing-channel"), 16);
    channel.close();
    check_channel_closed(channel);
}
