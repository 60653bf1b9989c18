#include "gateway/common/text.h"

#include <catch2/catch.hpp>

namespace gw {
namespace {

TEST_CASE("IsValidUtf8 accepts well-formed text", "[text]") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain ascii, long enough to use the word loop"));
  CHECK(IsValidUtf8("Облыс/Область"));
  CHECK(IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600
  CHECK(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  CHECK(
      IsValidUtf8("\xEF\xBB\xBF"
                  "abc"));  // BOM is a character
}

TEST_CASE("IsValidUtf8 rejects ill-formed text", "[text]") {
  CHECK_FALSE(IsValidUtf8("\x80"));              // stray continuation
  CHECK_FALSE(IsValidUtf8("abc\xC3"));           // truncated
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));  // invalid lead
  CHECK_FALSE(IsValidUtf8("\xFF"));
  CHECK_FALSE(IsValidUtf8("12345678\xD0"));  // after the ASCII word loop
  CHECK_FALSE(IsValidUtf8(std::string("\xD0\x90\xD0", 3)));
}

TEST_CASE("ToNfc composes and passes NFC and ASCII through", "[text]") {
  CHECK(ToNfc("abc") == std::optional<std::string>("abc"));
  // и + combining breve → й; и + combining macron → ӣ (Tajik)
  CHECK(ToNfc("\xD0\xB8\xCC\x86") == std::optional<std::string>("й"));
  CHECK(ToNfc("\xD0\xB8\xCC\x84") == std::optional<std::string>("ӣ"));
  CHECK(ToNfc("Әкесінің") == std::optional<std::string>("Әкесінің"));
  CHECK_FALSE(ToNfc("\xC3").has_value());
}

TEST_CASE("FoldKey: NFC, trim, collapse, case fold", "[text]") {
  CHECK(FoldKey("  Hello   World\t") == "hello world");
  CHECK(FoldKey("ЖСН/ИИН") == "жсн/иин");
  CHECK(FoldKey("\xC2\xA0 Облыс/Область \xE2\x80\x83") == "облыс/область");
  CHECK(FoldKey("лицо,\xE3\x80\x80 ищущее\n\nубежище") == "лицо, ищущее убежище");
  // NFD input folds to the same key as NFC input.
  CHECK(FoldKey("\xD0\x98\xCC\x86") == FoldKey("Й"));
  CHECK(FoldKey("\xD0\x98\xCC\x86") == "й");
  // Full folding: ß → ss; folding keeps the result NFC.
  CHECK(FoldKey("Straße") == "strasse");
  CHECK(FoldKey("ΣΊΣΥΦΟΣ") == FoldKey("σίσυφος"));
  CHECK(FoldKey("") == "");
  CHECK(FoldKey("   ") == "");
  CHECK(FoldKey("ok\xFF") == "");  // invalid UTF-8
}

TEST_CASE("FoldKey ASCII fast path agrees with the ICU path", "[text]") {
  // The same ASCII text, once alone and once with a non-ASCII tail that folds
  // to itself, must give the same prefix.
  const std::string ascii = " \tMixed CASE  text\r\n with\vspaces";
  const std::string key = FoldKey(ascii + " ");
  CHECK(key == "mixed case text with spaces");
  CHECK(FoldKey(ascii + "Й ") == key + "й");
  CHECK(FoldKey(ascii + "\xC2\xA0") == key);
}

TEST_CASE("TrimSpace trims ASCII and Unicode white space", "[text]") {
  CHECK(TrimSpace("  abc \t") == "abc");
  CHECK(TrimSpace("\xC2\xA0"
                  "abc"
                  "\xE2\x80\xAF") == "abc");  // NBSP, NNBSP
  CHECK(TrimSpace("\xE3\x80\x80"
                  "Алматы"
                  "\xE3\x80\x80") == "Алматы");
  CHECK(TrimSpace("a b") == "a b");
  CHECK(TrimSpace("") == "");
  CHECK(TrimSpace(" \xC2\xA0 ") == "");
  // Non-space non-ASCII at the ends stays.
  CHECK(TrimSpace("Ә") == "Ә");
  // Invalid bytes are not white space and are left alone.
  CHECK(TrimSpace(" \x80 ") == "\x80");
}

TEST_CASE("ASCII helpers for protocol tokens", "[text]") {
  CHECK(AsciiLower("Content-Type") == "content-type");
  CHECK(AsciiLower("UTF-8 Text/CSV") == "utf-8 text/csv");
  // Only ASCII letters change: bytes of other scripts are copied as they are.
  CHECK(AsciiLower("\xD0\x90Z") == "\xD0\x90z");
  CHECK(AsciiLower("") == "");
  CHECK(TrimOws(" \tgzip;q=0.5 \t") == "gzip;q=0.5");
  CHECK(TrimOws("a b") == "a b");
  CHECK(TrimOws(" \t ") == "");
  // Only SP and HTAB are HTTP white space.
  CHECK(TrimOws("\ngzip\r") == "\ngzip\r");
}

}  // namespace
}  // namespace gw
