// HTTP content coding (RFC 9110 section 8.4): the gzip coding of a response
// body, and whether a request's Accept-Encoding lets the server use it.
//
// Released tables are JSON or CSV with the same keys and codes in every cell,
// so gzip makes a table of many cells 10 to 15 times smaller (the benchmark's
// 65,729-byte table of one country becomes 4,409 bytes; a 2,397-byte table of
// the five countries, 693 bytes). Python requests, R httr and browsers ask for
// it by default, curl with --compressed.
//
// The compressor is Boost.Beast's port of zlib's deflate: Boost is already a
// dependency, and zlib is not one of the project's packages. The gzip framing
// around it (RFC 1952: a 10-byte header, then CRC-32 and length) is written
// here.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gw::http {

// Bodies shorter than this are sent as they are: the gzip framing and a
// client's inflate cost more than the bytes saved.
inline constexpr size_t kMinGzipBytes = 1024;

// True when the Accept-Encoding field value (empty when the request has none)
// accepts the gzip coding: "gzip", "x-gzip" or "*" listed with a weight above
// zero, and gzip not refused explicitly ("gzip;q=0"). Codings are matched
// case-insensitively; a malformed element is ignored rather than trusted.
bool AcceptsGzip(std::string_view accept_encoding);

// `data` in the gzip format (RFC 1952), compressed at `level` (1 fastest to 9
// smallest; others are clamped to that range). Nothing if the compressor
// reports an error, which deflate never does for any input: the caller then
// sends the body as it is.
std::optional<std::string> Gzip(std::string_view data, int level = 6);

}  // namespace gw::http
