// Implements text.h. Most values in national files (digits, dates, ISO codes)
// are pure ASCII, so every function first checks for ASCII and then avoids
// ICU entirely; only text with non-ASCII bytes pays for normalisation and
// case folding. ICU is driven through its UTF-8 entry points (normalizeUTF8,
// CaseMap::utf8Fold) so no UTF-16 copies are made.
#include "gateway/common/text.h"

#include <unicode/bytestream.h>
#include <unicode/casemap.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>

#include <cstdint>
#include <cstring>

namespace gw {
namespace {

// Eight bytes at a time: files are mostly ASCII, and this test runs per field.
bool IsAscii(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (w & 0x8080808080808080ULL) return false;
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    if (static_cast<unsigned char>(*p) >= 0x80) return false;
    ++p;
    --n;
  }
  return true;
}

// The ASCII members of Unicode's White_Space property (U+0009..U+000D, U+0020),
// so that the ASCII fast paths agree exactly with the ICU paths.
inline bool IsAsciiSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Unicode White_Space. Every member above ASCII is U+0085, U+00A0 or at least
// U+1680, so the letters of most scripts (Cyrillic included) are answered
// without a property lookup; ICU stays the authority for the rest.
inline bool IsUnicodeSpace(UChar32 c) {
  if (c < 0x80) return IsAsciiSpace(static_cast<unsigned char>(c));
  if (c != 0x85 && c != 0xA0 && c < 0x1680) return false;
  return u_isUWhiteSpace(c);
}

// Decodes one well-formed UTF-8 sequence at s[i] (Unicode Table 3-7: no
// overlongs, no surrogates, nothing above U+10FFFF). Returns its length, or 0
// if the bytes at `i` are not a complete well-formed sequence.
size_t DecodeUtf8(const unsigned char* s, size_t n, size_t i, UChar32* cp) {
  const unsigned char b0 = s[i];
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  UChar32 c;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, c = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, c = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, c = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n - i < len) return 0;
  if (s[i + 1] < lo || s[i + 1] > hi) return 0;
  c = (c << 6) | (s[i + 1] & 0x3F);
  for (size_t k = 2; k < len; ++k) {
    if ((s[i + k] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (s[i + k] & 0x3F);
  }
  *cp = c;
  return len;
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Trims, and collapses inner runs of white space to one U+0020, on valid UTF-8.
std::string CollapseSpace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const unsigned char* b = Bytes(s);
  bool pending_space = false;
  size_t i = 0;
  while (i < s.size()) {
    UChar32 c;
    size_t len = DecodeUtf8(b, s.size(), i, &c);
    if (len == 0) len = 1, c = 0xFFFD;  // callers pass valid text; be defensive
    if (IsUnicodeSpace(c)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out.push_back(' ');
      pending_space = false;
      out.append(s.data() + i, len);
    }
    i += len;
  }
  return out;
}

const icu::Normalizer2* Nfc() {
  // ICU caches the instance itself; the static saves the lookup per call.
  static const icu::Normalizer2* const nfc = [] {
    UErrorCode ec = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(ec);
    return U_SUCCESS(ec) ? n : nullptr;
  }();
  return nfc;
}

// NFC of valid UTF-8; nullopt only if ICU itself fails (no data).
std::optional<std::string> NfcOfValid(std::string_view s) {
  const icu::Normalizer2* nfc = Nfc();
  if (nfc == nullptr) return std::nullopt;
  UErrorCode ec = U_ZERO_ERROR;
  const icu::StringPiece piece(s.data(), static_cast<int32_t>(s.size()));
  if (nfc->isNormalizedUTF8(piece, ec) && U_SUCCESS(ec)) return std::string(s);
  ec = U_ZERO_ERROR;
  std::string out;
  out.reserve(s.size());
  icu::StringByteSink<std::string> sink(&out);
  nfc->normalizeUTF8(0, piece, sink, nullptr, ec);
  if (U_FAILURE(ec)) return std::nullopt;
  return out;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const unsigned char* b = Bytes(s);
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (b[i] < 0x80) {
      // Skip ASCII runs a word at a time.
      while (i + 8 <= n) {
        uint64_t w;
        std::memcpy(&w, b + i, 8);
        if (w & 0x8080808080808080ULL) break;
        i += 8;
      }
      while (i < n && b[i] < 0x80) ++i;
      continue;
    }
    UChar32 c;
    const size_t len = DecodeUtf8(b, n, i, &c);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::optional<std::string> ToNfc(std::string_view utf8) {
  if (IsAscii(utf8)) return std::string(utf8);
  if (!IsValidUtf8(utf8)) return std::nullopt;
  return NfcOfValid(utf8);
}

std::string FoldKey(std::string_view utf8) {
  if (IsAscii(utf8)) {
    // ASCII is already NFC, and its full case folding is plain lowercasing.
    std::string out;
    out.reserve(utf8.size());
    bool pending_space = false;
    for (char ch : utf8) {
      const unsigned char c = static_cast<unsigned char>(ch);
      if (IsAsciiSpace(c)) {
        pending_space = !out.empty();
        continue;
      }
      if (pending_space) out.push_back(' ');
      pending_space = false;
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : ch);
    }
    return out;
  }
  if (!IsValidUtf8(utf8)) return {};
  std::optional<std::string> nfc = NfcOfValid(utf8);
  if (!nfc) return {};
  const std::string collapsed = CollapseSpace(*nfc);

  std::string folded;
  folded.reserve(collapsed.size());
  {
    icu::StringByteSink<std::string> sink(&folded);
    UErrorCode ec = U_ZERO_ERROR;
    icu::CaseMap::utf8Fold(
        U_FOLD_CASE_DEFAULT,
        icu::StringPiece(collapsed.data(), static_cast<int32_t>(collapsed.size())), sink, nullptr,
        ec);
    if (U_FAILURE(ec)) return {};
  }
  // Folding can denormalise (e.g. U+0345 folds to U+03B9), hence NFC again.
  std::optional<std::string> out = NfcOfValid(folded);
  return out ? std::move(*out) : std::string();
}

std::string_view TrimSpace(std::string_view utf8) {
  const unsigned char* b = Bytes(utf8);
  size_t begin = 0, end = utf8.size();
  while (begin < end) {
    if (b[begin] < 0x80) {
      if (!IsAsciiSpace(b[begin])) break;
      ++begin;
      continue;
    }
    UChar32 c;
    const size_t len = DecodeUtf8(b, end, begin, &c);
    if (len == 0 || !IsUnicodeSpace(c)) break;
    begin += len;
  }
  while (end > begin) {
    if (b[end - 1] < 0x80) {
      if (!IsAsciiSpace(b[end - 1])) break;
      --end;
      continue;
    }
    // Step back to the lead byte (at most three continuation bytes).
    size_t start = end - 1;
    while (start > begin && end - start < 4 && (b[start] & 0xC0) == 0x80) --start;
    UChar32 c;
    const size_t len = DecodeUtf8(b, end, start, &c);
    if (len != end - start || !IsUnicodeSpace(c)) break;
    end = start;
  }
  return utf8.substr(begin, end - begin);
}

void AppendJsonString(std::string& out, std::string_view utf8) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : utf8) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace gw
