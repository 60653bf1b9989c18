// Reading a database file into the kernel's page cache before a check that
// walks all of it (gateway serve's integrity check at start-up).
//
// SQLite's quick_check visits the pages in B-tree order, one read of one page
// at a time; on a cold cache that is a random read per page (on the
// development VM, 33-36 s for a 1.6 GB database whose file reads from start
// to end in 3.6 s). Reading the file once in order first lets the check find
// its pages in memory, as far as the bound given (the whole file when it
// fits). Nothing here changes what is checked: the bytes are only read, never
// interpreted. They are copied into a buffer and dropped; posix_fadvise's
// WILLNEED or readahead(2) would save that copy but only start the reads,
// which the check could then overtake.
//
// Contract: call these before this process opens the database with SQLite.
// They open and close their own descriptor, and closing any descriptor of a
// file drops every POSIX lock the process holds on it, SQLite's included.
//
// Thread-safety: the functions keep no state.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/common/status.h"

namespace gw {

// MemAvailable from /proc/meminfo (what the kernel can give without
// swapping), or 0 when it cannot be read.
uint64_t AvailableMemoryBytes();

// Reads the first min(file size, max_bytes) bytes of `path` in order and
// discards them, leaving them in the page cache. Returns the bytes read; a
// missing file reads as 0 bytes (a database may have no WAL beside it), and
// anything but a regular file is an error.
Result<uint64_t> ReadIntoPageCache(const std::string& path, uint64_t max_bytes);

// Reads the database at `database_path` and then its WAL, together at most
// `max_bytes`. Best effort: a file that cannot be read is skipped, and
// whatever is wrong with it is left to the check that follows. Returns the
// bytes read.
uint64_t ReadDatabaseAhead(const std::string& database_path, uint64_t max_bytes);
// The same, bounded by half of AvailableMemoryBytes(): more would push the
// first pages out again before the check reaches them. MemAvailable is the
// machine's, not a container's memory limit; when /proc/meminfo cannot be
// read the bound is 0 and nothing is read ahead.
uint64_t ReadDatabaseAhead(const std::string& database_path);

}  // namespace gw
