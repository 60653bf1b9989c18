// HTTP content coding (RFC 9110 section 8.4): the gzip coding of a response
// body, and whether a request's Accept-Encoding lets the server use it.
//
// Released tables are JSON or CSV with the same keys and codes in every cell,
// so gzip makes them 10 to 15 times smaller (a 66,521-byte table of one
// country becomes 4,475 bytes). Every common HTTP client asks for it by
// default (curl --compressed, Python requests, R httr, browsers).
//
// The compressor is Boost.Beast's port of zlib's deflate: Boost is already a
// dependency, and zlib is not one of the project's packages. The gzip framing
// around it (RFC 1952: a 10-byte header, then CRC-32 and length) is written
// here.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
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
// smallest). Never fails: deflate needs no input validation, and the output
// is sized by deflate's own upper bound.
std::string Gzip(std::string_view data, int level = 6);

}  // namespace gw::http
