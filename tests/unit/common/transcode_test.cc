#include "gateway/common/transcode.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>

namespace gw {
namespace {

class TrickleSource : public ByteSource {
 public:
  TrickleSource(std::string data, size_t step) : data_(std::move(data)), step_(step) {}
  Result<size_t> Read(char* buffer, size_t capacity) override {
    const size_t n = std::min({capacity, step_, data_.size() - pos_});
    std::memcpy(buffer, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t step_;
  size_t pos_ = 0;
};

// Reads everything through MakeUtf8Source, `out_step` bytes per Read.
Result<std::string> Convert(ByteSource& inner, const std::string& charset, size_t out_step = 4096) {
  auto source = MakeUtf8Source(inner, charset);
  if (!source.ok()) return source.status();
  std::string out;
  std::string buf(out_step, '\0');
  while (true) {
    Result<size_t> n = (*source)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  return out;
}

Result<std::string> Convert(const std::string& data, const std::string& charset) {
  StringSource inner(data);
  return Convert(inner, charset);
}

TEST_CASE("UTF-8 passes through unchanged", "[transcode]") {
  const std::string text =
      "\xEF\xBB\xBFЖСН/ИИН;Облыс/Область\r\nӘ ә Ң ң Ғ ғ Ү ү Ұ ұ Қ қ Ө ө Һ һ І і\r\n";
  for (const char* name : {"utf-8", "UTF-8", "utf8", "Utf8"}) {
    auto out = Convert(text, name);
    REQUIRE(out.ok());
    CHECK(*out == text);
  }
}

TEST_CASE("UTF-8 sequences split across reads are accepted", "[transcode]") {
  const std::string text = "Ә😀ӣ and more: Мәртебесі/Статус";
  for (size_t step : {1, 2, 3, 5}) {
    for (size_t out_step : {1, 3, 4096}) {
      TrickleSource again(text, step);
      auto out = Convert(again, "utf-8", out_step);
      REQUIRE(out.ok());
      CHECK(*out == text);
    }
  }
}

TEST_CASE("invalid UTF-8 fails with the byte offset", "[transcode]") {
  auto bad = Convert(std::string("abc\xD0\x90\xFF"
                                 "def"),
                     "utf-8");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kInvalidArgument);
  CHECK(bad.status().message() == "byte offset 5 is not valid UTF-8");

  auto overlong = Convert(std::string("ab\xC0\xAF"), "utf-8");
  REQUIRE_FALSE(overlong.ok());
  CHECK(overlong.status().message() == "byte offset 2 is not valid UTF-8");

  auto surrogate = Convert(std::string("\xED\xA0\x80"), "utf-8");
  REQUIRE_FALSE(surrogate.ok());
  CHECK_THAT(surrogate.status().message(), Catch::Contains("byte offset 0"));
}

TEST_CASE("invalid UTF-8 offsets are exact across chunk boundaries", "[transcode]") {
  std::string text(70000, 'a');
  text += "\xD0\x90";
  text += "\x80";  // stray continuation at offset 70002
  for (size_t step : {1, 7, 65536}) {
    TrickleSource inner(text, step);
    auto out = Convert(inner, "utf-8");
    REQUIRE_FALSE(out.ok());
    CHECK(out.status().message() == "byte offset 70002 is not valid UTF-8");
  }
}

TEST_CASE("a truncated UTF-8 sequence at the end is an error", "[transcode]") {
  auto out = Convert(std::string("abc\xE2\x82"), "utf-8");
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().code() == Code::kInvalidArgument);
  CHECK_THAT(out.status().message(),
             Catch::Contains("ends inside") && Catch::Contains("byte offset 3"));
}

TEST_CASE("RK1048 converts to UTF-8 under all its names", "[transcode]") {
  // RK1048 bytes for "ӘәҢңІі Ж" (glibc's table).
  const std::string rk = "\xA3\xBC\xBD\xBE\xB2\xB3 \xC6";
  auto ref = Convert(rk, "RK1048");
  REQUIRE(ref.ok());
  CHECK(*ref == "ӘәҢңІі Ж");
  for (const char* name : {"rk1048", "kz-1048", "KZ-1048", "kz1048"}) {
    auto out = Convert(rk, name);
    REQUIRE(out.ok());
    CHECK(*out == *ref);
  }
}

TEST_CASE("RK1048 conversion streams in small reads", "[transcode]") {
  std::string rk;
  for (int i = 0; i < 30000; ++i) rk += "\xC6\xD1\xCD;";  // ЖСН;
  TrickleSource inner(rk, 3);
  auto out = Convert(inner, "rk1048", 5);
  REQUIRE(out.ok());
  std::string expect;
  for (int i = 0; i < 30000; ++i) expect += "ЖСН;";
  CHECK(*out == expect);
}

TEST_CASE("bytes not in RK1048 fail with the byte offset", "[transcode]") {
  auto out = Convert(std::string("ab\xC6\x98z"), "rk1048");
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().code() == Code::kInvalidArgument);
  CHECK(out.status().message() == "byte offset 3 is not valid RK1048");

  std::string big(100000, 'a');
  big += '\x98';
  TrickleSource inner(big, 4096);
  auto later = Convert(inner, "rk1048");
  REQUIRE_FALSE(later.ok());
  CHECK(later.status().message() == "byte offset 100000 is not valid RK1048");
}

TEST_CASE("unknown or unsafe charset names are refused", "[transcode]") {
  StringSource inner("x");
  for (const char* name : {"klingon-8", "", "utf-8//IGNORE", "rk1048//TRANSLIT", "a b"}) {
    auto s = MakeUtf8Source(inner, name);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == Code::kInvalidArgument);
    CHECK_THAT(s.status().message(), Catch::Contains("charset"));
  }
  auto named = MakeUtf8Source(inner, "klingon-8");
  CHECK_THAT(named.status().message(), Catch::Contains("klingon-8"));
}

}  // namespace
}  // namespace gw
