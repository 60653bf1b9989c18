#include "gateway/common/csv_reader.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace gw {
namespace {

using Records = std::vector<std::vector<std::string>>;

// Serves its data `step` bytes at a time, to put every byte on a boundary.
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

class FailingSource : public ByteSource {
 public:
  Result<size_t> Read(char*, size_t) override { return Status::IoError("disk on fire"); }
};

Result<Records> ReadAll(ByteSource& source, CsvOptions options = {}) {
  CsvReader reader(source, options);
  Records out;
  std::vector<std::string> fields;
  while (true) {
    Result<bool> more = reader.Next(fields);
    if (!more.ok()) return more.status();
    if (!*more) break;
    out.push_back(fields);
  }
  return out;
}

Result<Records> Parse(const std::string& text, CsvOptions options = {}) {
  StringSource source(text);
  return ReadAll(source, options);
}

CsvOptions Semicolon() {
  CsvOptions o;
  o.separator = ';';
  return o;
}

TEST_CASE("CsvReader reads simple records with CRLF and LF", "[csv]") {
  auto r = Parse("a,b,c\r\n1,2,3\n4,5,6");
  REQUIRE(r.ok());
  CHECK(*r == Records{{"a", "b", "c"}, {"1", "2", "3"}, {"4", "5", "6"}});
}

TEST_CASE("CsvReader handles empty fields and trailing separators", "[csv]") {
  auto r = Parse("a;;c;\n;\n", Semicolon());
  REQUIRE(r.ok());
  CHECK(*r == Records{{"a", "", "c", ""}, {"", ""}});
}

TEST_CASE("CsvReader: quoted fields hold separators, quotes and line breaks", "[csv]") {
  auto r = Parse("x;\"a;b\";\"say \"\"hi\"\"\";\"line1\r\nline2\nline3\";\"\"\r\nnext;1;2;3;4\r\n",
                 Semicolon());
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0] == std::vector<std::string>{"x", "a;b", "say \"hi\"", "line1\r\nline2\nline3", ""});
  CHECK((*r)[1] == std::vector<std::string>{"next", "1", "2", "3", "4"});
}

TEST_CASE("CsvReader takes a quote inside an unquoted field literally", "[csv]") {
  auto r = Parse("ab\"c,d\"\n");
  REQUIRE(r.ok());
  CHECK(*r == Records{{"ab\"c", "d\""}});
}

TEST_CASE("CsvReader skips blank lines and a BOM", "[csv]") {
  auto r = Parse("\xEF\xBB\xBFh1,h2\r\n\r\n\n1,2\n\n");
  REQUIRE(r.ok());
  CHECK(*r == Records{{"h1", "h2"}, {"1", "2"}});
}

TEST_CASE("CsvReader keeps the BOM when told to", "[csv]") {
  CsvOptions o;
  o.skip_bom = false;
  auto r = Parse("\xEF\xBB\xBFh\n", o);
  REQUIRE(r.ok());
  CHECK(*r == Records{{"\xEF\xBB\xBFh"}});
}

TEST_CASE("CsvReader: a quoted empty field is a record, not a blank line", "[csv]") {
  auto r = Parse("\"\"\n");
  REQUIRE(r.ok());
  CHECK(*r == Records{{""}});
}

TEST_CASE("CsvReader: empty input and only blank lines give no records", "[csv]") {
  auto r = Parse("");
  REQUIRE(r.ok());
  CHECK(r->empty());
  auto b = Parse("\xEF\xBB\xBF\r\n\n");
  REQUIRE(b.ok());
  CHECK(b->empty());
}

TEST_CASE("CsvReader counts records and lines", "[csv]") {
  StringSource source("h1;h2\r\n\r\n\"a\nb\";c\r\nd;e\r\n");
  CsvReader reader(source, Semicolon());
  std::vector<std::string> f;
  REQUIRE(*reader.Next(f));
  CHECK(reader.record_index() == 0);
  CHECK(reader.line() == 1);
  REQUIRE(*reader.Next(f));
  CHECK(reader.record_index() == 1);
  CHECK(reader.line() == 3);  // line 2 was blank
  REQUIRE(*reader.Next(f));
  CHECK(reader.record_index() == 2);
  CHECK(reader.line() == 5);  // the quoted field spanned lines 3-4
  CHECK_FALSE(*reader.Next(f));
  CHECK_FALSE(*reader.Next(f));  // stays at the end
}

TEST_CASE("CsvReader gives the same records whatever the chunking", "[csv]") {
  const std::string text =
      "\xEF\xBB\xBF"
      "h1;h2;h3\r\n\"q;\"\"x\"\"\r\ny\";plain;\r\nлат;\"кир\";ок\r\n\r\nlast;;z";
  auto whole = Parse(text, Semicolon());
  REQUIRE(whole.ok());
  CHECK(whole->size() == 4);
  for (size_t step : {1, 2, 3, 5, 7}) {
    TrickleSource source(text, step);
    auto r = ReadAll(source, Semicolon());
    REQUIRE(r.ok());
    CHECK(*r == *whole);
  }
}

TEST_CASE("CsvReader: a lone CR is data, CR at the end of input ends the record", "[csv]") {
  auto r = Parse("a\rb,c\r");
  REQUIRE(r.ok());
  CHECK(*r == Records{{"a\rb", "c"}});
}

TEST_CASE("CsvReader reports an unterminated quote with its line", "[csv]") {
  auto r = Parse("h\nok\n\"never\nclosed\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK_THAT(r.status().message(), Catch::Contains("unterminated") && Catch::Contains("line 3"));
}

TEST_CASE("CsvReader reports text after a closing quote with its line", "[csv]") {
  auto r = Parse("h\n\"ab\"c\n");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("line 2") && Catch::Contains("closing quote"));
}

TEST_CASE("CsvReader caps the record size", "[csv]") {
  CsvOptions o;
  o.max_record_bytes = 16;
  auto ok = Parse("0123456789abcdef\n", o);
  CHECK(ok.ok());
  auto big = Parse("h\n0123456789abcdefg\n", o);
  REQUIRE_FALSE(big.ok());
  CHECK_THAT(big.status().message(), Catch::Contains("line 2"));
  auto quoted = Parse("\"0123456789abcdefghij", o);
  REQUIRE_FALSE(quoted.ok());
  CHECK_THAT(quoted.status().message(), Catch::Contains("line 1"));
}

TEST_CASE("CsvReader handles records larger than its buffer", "[csv]") {
  const std::string big(200 * 1024, 'x');
  auto r = Parse("a," + big + "\n\"" + big + "\"\n");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0][1] == big);
  CHECK((*r)[1][0] == big);
}

TEST_CASE("CsvReader passes source errors through", "[csv]") {
  FailingSource source;
  auto r = ReadAll(source);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kIoError);
}

}  // namespace
}  // namespace gw
