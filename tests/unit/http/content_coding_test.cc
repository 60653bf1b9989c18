#include "gateway/http/content_coding.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <random>

#include "support/gunzip.h"
#include "support/test_deployment.h"

namespace gw::http {
namespace {

uint32_t TrailerWord(const std::string& gz, size_t from_end) {
  uint32_t w = 0;
  for (int i = 3; i >= 0; --i)
    w = w << 8 | static_cast<unsigned char>(gz[gz.size() - from_end + i]);
  return w;
}

// A table as the gateway renders it: the same keys and codes in every cell.
std::string TableLikeJson(int cells) {
  std::string s = "{\"cells\":[";
  for (int i = 0; i < cells; ++i) {
    if (i > 0) s += ',';
    s += "{\"pop_type\":\"REF\",\"coo\":\"C" + std::to_string(i % 250) + "\",\"sex\":\"" +
         (i % 2 ? "F" : "M") + "\",\"value\":" + std::to_string(i * 37 % 10007) +
         ",\"status\":\"E\"}";
  }
  return s + "]}";
}

}  // namespace

TEST_CASE("Accept-Encoding: gzip is used only when the client accepts it", "[http][coding]") {
  CHECK_FALSE(AcceptsGzip(""));
  CHECK(AcceptsGzip("gzip"));
  CHECK(AcceptsGzip("GZip"));
  CHECK(AcceptsGzip("x-gzip"));
  CHECK(AcceptsGzip("gzip, deflate"));            // Python requests
  CHECK(AcceptsGzip("deflate, gzip, br, zstd"));  // curl --compressed
  CHECK(AcceptsGzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
  CHECK(AcceptsGzip(" , gzip ; q=0.5 ,"));
  CHECK(AcceptsGzip("gzip;q=1.000"));
  CHECK(AcceptsGzip("*"));
  CHECK(AcceptsGzip("identity, *;q=0.3"));
  // Refused explicitly, or not offered.
  CHECK_FALSE(AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0.000"));
  CHECK_FALSE(AcceptsGzip("*;q=0"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0, *"));  // the named coding wins over *
  CHECK_FALSE(AcceptsGzip("identity"));
  CHECK_FALSE(AcceptsGzip("br, deflate"));
  CHECK_FALSE(AcceptsGzip("gzipped"));
  // A malformed weight is not trusted to mean yes.
  CHECK_FALSE(AcceptsGzip("gzip;q=2"));
  CHECK_FALSE(AcceptsGzip("gzip;q=1.5"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0.0001"));
  CHECK_FALSE(AcceptsGzip("gzip;q="));
  CHECK_FALSE(AcceptsGzip("gzip;q=abc"));
  CHECK_FALSE(AcceptsGzip("gzip;q"));
  // Space around "=" and the parameter's case do not hide a refusal.
  CHECK_FALSE(AcceptsGzip("gzip;q =0"));
  CHECK_FALSE(AcceptsGzip("gzip; Q = 0"));
  CHECK(AcceptsGzip("*;q=0, gzip"));  // named explicitly
  CHECK_FALSE(AcceptsGzip("identity;q=0"));
}

TEST_CASE("Gzip writes RFC 1952 members that decode to the input", "[http][coding]") {
  // The CRC-32 check value of "123456789" (from the CRC catalogue), and its length.
  const std::string check = Gzip("123456789").value();
  CHECK(static_cast<unsigned char>(check[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(check[1]) == 0x8b);
  CHECK(TrailerWord(check, 8) == 0xCBF43926u);
  CHECK(TrailerWord(check, 4) == 9u);

  std::mt19937 random(7);
  std::string noise(70000, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  const std::string table = TableLikeJson(900);
  for (const std::string& input : {std::string(), std::string("x"), table, noise}) {
    for (int level : {1, 6, 9}) {
      const std::string gz = Gzip(input, level).value();
      auto back = test::Gunzip(gz);
      REQUIRE(back.ok());
      CHECK(*back == input);
      CHECK(Gzip(input, level) == gz);  // deterministic: no time stamp in the header
    }
  }
  CHECK(Gzip(table)->size() * 8 < table.size());
  CHECK(Gzip(noise)->size() < noise.size() + 64);  // stored blocks when nothing compresses
  CHECK(Gzip(table, 0) == Gzip(table, 1));         // levels out of range are clamped
  CHECK(Gzip(table, 42) == Gzip(table, 9));

  // A decoder that is not ours: the gzip tool every Debian system has.
  test::TempDir tmp;
  test::WriteFile(tmp.path() + "/t.gz", Gzip(table).value());
  const std::string cmd = "gzip -dc '" + tmp.path() + "/t.gz' > '" + tmp.path() + "/t.json'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(test::ReadFile(tmp.path() + "/t.json") == table);
}

TEST_CASE("Gunzip refuses damaged members", "[http][coding]") {
  const std::string gz = Gzip(TableLikeJson(50)).value();
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 1;
  CHECK_FALSE(test::Gunzip(bad_crc).ok());
  CHECK_FALSE(test::Gunzip(gz.substr(0, gz.size() - 3)).ok());
  CHECK_FALSE(test::Gunzip(gz + "x").ok());
  CHECK_FALSE(test::Gunzip("not gzip at all, but long enough").ok());
}

}  // namespace gw::http
