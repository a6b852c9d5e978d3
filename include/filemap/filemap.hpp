// filemap/filemap.hpp - the umbrella header: every public type of filemap.
//
// filemap shares memory between processes through named file mappings, with
// one RAII class (FileMapping) over CreateFileMapping/MapViewOfFile on
// Windows and shm_open/mmap on POSIX, bounds-checked typed access, and the
// coordination that goes with it (NamedMutex, Channel, Shared<T>).
#pragma once

#include <filemap/channel.hpp>
#include <filemap/error.hpp>
#include <filemap/file_mapping.hpp>
#include <filemap/loan.hpp>
#include <filemap/name.hpp>
#include <filemap/named_mutex.hpp>
#include <filemap/options.hpp>
#include <filemap/shared.hpp>
#include <filemap/topic.hpp>
#include <filemap/view.hpp>
