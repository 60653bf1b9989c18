#include "gateway/http/content_coding.h"

#include <algorithm>
#include <boost/beast/zlib/deflate_stream.hpp>
#include <boost/crc.hpp>
#include <cstdint>
#include <iterator>
#include <optional>

namespace gw::http {
namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// A qvalue (RFC 9110 section 12.4.2) in thousandths, or nothing if malformed.
std::optional<int> ParseQvalue(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  int whole = v[0] - '0';
  int thousandths = 0;
  if (v.size() > 1) {
    if (v[1] != '.' || v.size() > 5) return std::nullopt;
    int scale = 100;
    for (char c : v.substr(2)) {
      if (c < '0' || c > '9') return std::nullopt;
      thousandths += (c - '0') * scale;
      scale /= 10;
    }
  }
  if (whole == 1 && thousandths != 0) return std::nullopt;
  return whole * 1000 + thousandths;
}

// An element "coding *( OWS ";" OWS param )": its coding and weight (1000
// when no q is given), or nothing if a q parameter is malformed. Parameter
// names are compared without case, and space around "=" is tolerated, so that
// "gzip;Q = 0" still refuses gzip.
std::optional<std::pair<std::string_view, int>> ParseElement(std::string_view element) {
  size_t semi = element.find(';');
  std::string_view coding = TrimOws(element.substr(0, semi));
  int weight = 1000;
  while (semi != std::string_view::npos) {
    element.remove_prefix(semi + 1);
    semi = element.find(';');
    std::string_view param = element.substr(0, semi);
    const size_t eq = param.find('=');
    if (!EqualsLower(TrimOws(param.substr(0, eq)), "q")) continue;
    if (eq == std::string_view::npos) return std::nullopt;
    std::optional<int> q = ParseQvalue(TrimOws(param.substr(eq + 1)));
    if (!q) return std::nullopt;
    weight = *q;
  }
  return std::make_pair(coding, weight);
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<int> gzip_weight, any_weight;
  while (!accept_encoding.empty()) {
    size_t comma = accept_encoding.find(',');
    std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    auto parsed = ParseElement(element);
    if (!parsed) continue;
    const auto& [coding, weight] = *parsed;
    if (EqualsLower(coding, "gzip") || EqualsLower(coding, "x-gzip")) {
      gzip_weight = weight;
    } else if (coding == "*") {
      any_weight = weight;
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

}  // namespace gw::http
