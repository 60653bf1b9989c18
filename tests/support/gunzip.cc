#include "support/gunzip.h"

#include <boost/beast/zlib/inflate_stream.hpp>
#include <boost/crc.hpp>
#include <cstdint>

namespace gw::test {

Result<std::string> Gunzip(std::string_view gz) {
  namespace zlib = boost::beast::zlib;
  // The gateway writes no optional header fields (FLG 0), so none are read.
  if (gz.size() < 18 || static_cast<unsigned char>(gz[0]) != 0x1f ||
      static_cast<unsigned char>(gz[1]) != 0x8b || gz[2] != 8 || gz[3] != 0) {
    return Status::InvalidArgument("not a gzip member without optional fields");
  }
  std::string out;
  zlib::inflate_stream inflate;
  inflate.reset(15);
  zlib::z_params zs;
  zs.next_in = gz.data() + 10;
  zs.avail_in = gz.size() - 10;
  char chunk[16384];
  for (;;) {
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    boost::beast::error_code ec;
    inflate.write(zs, zlib::Flush::sync, ec);
    out.append(chunk, sizeof chunk - zs.avail_out);
    if (ec == zlib::error::end_of_stream) break;
    if (ec) return Status::InvalidArgument("bad deflate data: " + ec.message());
    if (zs.avail_in == 0 && zs.avail_out != 0)
      return Status::InvalidArgument("deflate data ends early");
  }
  if (zs.avail_in != 8)
    return Status::InvalidArgument("the trailer is not 8 bytes after the deflate data");
  const auto* trailer = static_cast<const unsigned char*>(zs.next_in);
  auto word = [&](int at) {
    return static_cast<uint32_t>(trailer[at]) | static_cast<uint32_t>(trailer[at + 1]) << 8 |
           static_cast<uint32_t>(trailer[at + 2]) << 16 |
           static_cast<uint32_t>(trailer[at + 3]) << 24;
  };
  boost::crc_32_type crc;
  crc.process_bytes(out.data(), out.size());
  if (word(0) != crc.checksum()) return Status::InvalidArgument("CRC-32 mismatch");
  if (word(4) != static_cast<uint32_t>(out.size()))
    return Status::InvalidArgument("length mismatch");
  return out;
}

}  // namespace gw::test
