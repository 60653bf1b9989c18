// HTTP content coding (RFC 9110 section 8.4): the gzip coding of a response
// body, and whether a request's Accept-Encoding lets the server use it.
//
// Released tables are JSON or CSV with the same keys and codes in every cell,
// so gzip makes a large table about 15 times smaller and a small one about 3
// times (the benchmark's table of one country by origin, type and sex: 64-68 KB
// become 4.3-4.5 KB across the builds of its data measured, docs/api.md; 2,397
// bytes of the five countries by type, 704).
// Python requests, R httr and browsers ask for it by default, curl with
// --compressed.
//
// The compressor is Boost.Beast's port of zlib's deflate: Boost is already a
// dependency, and zlib is not one of the project's packages. The gzip framing
// around it (RFC 1952: a 10-byte header, then CRC-32 and length) is written
// here.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gw::http {

// Bodies shorter than this are sent as they are: the gzip framing and a
// client's inflate cost more than the bytes saved.
inline constexpr size_t kMinGzipBytes = 1024;
// Bodies longer than this are gzipped at the fastest level (see CodedBody).
inline constexpr size_t kFastGzipAboveBytes = size_t{256} << 10;

// True when the Accept-Encoding field value (empty when the request has none)
// accepts the gzip coding: "gzip", "x-gzip" or "*" listed with a weight above
// zero, and gzip not refused explicitly ("gzip;q=0"). Codings are matched
// case-insensitively; a malformed element is ignored rather than trusted.
bool AcceptsGzip(std::string_view accept_encoding);

// A response body in the codings the gateway can send it in: as it is, and
// gzipped when the client may ask for that and it is worth it. Shared, so a
// kept answer goes out in either coding without a copy.
struct CodedBody {
  std::shared_ptr<const std::string> identity;
  std::string identity_sha256;              // raw, 32 bytes
  std::shared_ptr<const std::string> gzip;  // null: not made, too short, or no smaller
  std::string gzip_sha256;                  // raw, of *gzip

  // `sha256`: of `body`, when the caller has it (computed here otherwise).
  // With `make_gzip`, a body of at least kMinGzipBytes is also gzipped: at
  // level 6 up to kFastGzipAboveBytes, at level 1 (a third of level 6's time
  // for a fifth more bytes) above.
  static CodedBody Of(std::string body, std::string sha256, bool make_gzip);
};

// `data` in the gzip format (RFC 1952), compressed at `level` (1 fastest to 9
// smallest; others are clamped to that range). Nothing if the compressor
// reports an error, which deflate never does for any input: the caller then
// sends the body as it is.
std::optional<std::string> Gzip(std::string_view data, int level = 6);

}  // namespace gw::http
