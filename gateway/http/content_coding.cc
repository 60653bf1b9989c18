#include "gateway/http/content_coding.h"

#include <algorithm>
#include <boost/beast/zlib/deflate_stream.hpp>
#include <boost/crc.hpp>
#include <cstdint>
#include <iterator>
#include <optional>

#include "gateway/common/weighted_list.h"
#include "gateway/crypto/digest.h"

namespace gw::http {

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<int> gzip_weight, any_weight;
  for (const WeightedItem& item : ParseWeightedList(accept_encoding)) {
    if (item.value == "gzip" || item.value == "x-gzip") {
      gzip_weight = item.weight;
    } else if (item.value == "*") {
      any_weight = item.weight;
    }
  }
  if (gzip_weight) return *gzip_weight > 0;
  return any_weight.value_or(0) > 0;
}

std::optional<std::string> Gzip(std::string_view data, int level) {
  namespace zlib = boost::beast::zlib;
  // RFC 1952 member header: magic, CM=8 (deflate), no flags, no mtime, XFL 0,
  // OS 255 (unknown): the same bytes for the same data, whenever it is made.
  static constexpr unsigned char kHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
  zlib::deflate_stream deflate;
  deflate.reset(std::clamp(level, 1, 9), 15, 8, zlib::Strategy::normal);
  std::string out(sizeof kHeader + deflate.upper_bound(data.size()) + 64, '\0');
  std::copy(std::begin(kHeader), std::end(kHeader), out.begin());
  zlib::z_params zs;
  zs.next_in = data.data();
  zs.avail_in = data.size();
  zs.next_out = out.data() + sizeof kHeader;
  zs.avail_out = out.size() - sizeof kHeader;
  // The buffer holds deflate's bound, so one finishing write normally ends
  // the stream; should it not (Beast returns without an error when the
  // output fills up), it gets more room. Beast reports the end of the stream
  // as end_of_stream; any other error means no gzip body.
  for (;;) {
    boost::beast::error_code ec;
    deflate.write(zs, zlib::Flush::finish, ec);
    if (ec == zlib::error::end_of_stream) break;
    if (ec || zs.avail_out != 0) return std::nullopt;
    const size_t used = out.size();
    out.resize(used * 2);
    zs.next_out = out.data() + used;
    zs.avail_out = out.size() - used;
  }
  if (zs.avail_in != 0) return std::nullopt;
  size_t used = sizeof kHeader + zs.total_out;
  out.resize(used + 8);
  boost::crc_32_type crc;
  crc.process_bytes(data.data(), data.size());
  const uint32_t trailer[2] = {crc.checksum(),
                               static_cast<uint32_t>(data.size())};  // ISIZE: mod 2^32
  for (uint32_t word : trailer) {
    for (int i = 0; i < 4; ++i)
      out[used++] = static_cast<char>((word >> (8 * i)) & 0xff);  // little-endian
  }
  out.shrink_to_fit();  // deflate's bound is about the input's size
  return out;
}

CodedBody CodedBody::Of(std::string body, std::string sha256, bool make_gzip) {
  CodedBody coded;
  coded.identity_sha256 = sha256.size() == 32 ? std::move(sha256) : Sha256Of(body);
  if (make_gzip && body.size() >= kMinGzipBytes) {
    auto gz = Gzip(body, body.size() > kFastGzipAboveBytes ? 1 : 6);
    if (gz && gz->size() < body.size()) {
      coded.gzip_sha256 = Sha256Of(*gz);
      coded.gzip = std::make_shared<const std::string>(std::move(*gz));
    }
  }
  coded.identity = std::make_shared<const std::string>(std::move(body));
  return coded;
}

}  // namespace gw::http
