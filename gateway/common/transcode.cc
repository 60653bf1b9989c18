// Implements transcode.h. Both sources read the inner source in 64 KiB
// chunks into their own buffer and hand out converted (or checked) bytes, so
// memory is constant whatever the file size. Offsets in error messages count
// bytes of the original input from 0, which is what an uploader can look up
// in the file they sent.
#include "gateway/common/transcode.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace gw {
namespace {

constexpr size_t kChunk = 64 * 1024;

// Result of checking a chunk of UTF-8: bytes [0, valid) are complete, valid
// sequences; if `invalid` is set the byte at `valid` is the first bad one,
// otherwise [valid, n) is the start of a sequence that continues in the next
// chunk.
struct Utf8Scan {
  size_t valid;
  bool invalid;
};

// Unicode Table 3-7 (well-formed UTF-8): no overlongs, surrogates or values
// above U+10FFFF. A prefix that could still become well-formed is reported as
// incomplete rather than invalid so that chunk boundaries do not matter.
Utf8Scan ScanUtf8(const unsigned char* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      while (i + 8 <= n) {
        uint64_t w;
        std::memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL) break;
        i += 8;
      }
      while (i < n && s[i] < 0x80) ++i;
      continue;
    }
    const unsigned char b0 = s[i];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return {i, true};
    }
    for (size_t k = 1; k < len; ++k) {
      if (i + k >= n) return {i, false};  // continues in the next chunk
      const unsigned char b = s[i + k];
      const bool ok = k == 1 ? (b >= lo && b <= hi) : (b & 0xC0) == 0x80;
      // The offending byte is the lead: the sequence starting there is what is bad.
      if (!ok) return {i, true};
    }
    i += len;
  }
  return {n, false};
}

class Utf8CheckingSource : public ByteSource {
 public:
  explicit Utf8CheckingSource(ByteSource& inner) : inner_(inner), buf_(kChunk) {}

  Result<size_t> Read(char* buffer, size_t capacity) override {
    if (capacity == 0) return size_t{0};
    while (pos_ == valid_) {
      if (done_) return size_t{0};
      // Keep the incomplete tail, read more behind it.
      const size_t tail = len_ - valid_;
      std::memmove(buf_.data(), buf_.data() + valid_, tail);
      base_ += valid_;
      pos_ = valid_ = 0;
      len_ = tail;
      Result<size_t> n = inner_.Read(buf_.data() + len_, buf_.size() - len_);
      if (!n.ok()) return n.status();
      if (*n == 0) {
        done_ = true;
        if (tail > 0) {
          return Status::InvalidArgument(
              "the input ends inside a UTF-8 sequence starting at byte offset " +
              std::to_string(base_));
        }
        return size_t{0};
      }
      len_ += *n;
      const Utf8Scan scan = ScanUtf8(reinterpret_cast<const unsigned char*>(buf_.data()), len_);
      if (scan.invalid) {
        return Status::InvalidArgument("byte offset " + std::to_string(base_ + scan.valid) +
                                       " is not valid UTF-8");
      }
      valid_ = scan.valid;
    }
    const size_t n = std::min(capacity, valid_ - pos_);
    std::memcpy(buffer, buf_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  ByteSource& inner_;
  std::vector<char> buf_;
  size_t pos_ = 0, valid_ = 0, len_ = 0;  // [pos_, valid_) checked, [valid_, len_) pending
  uint64_t base_ = 0;                     // input offset of buf_[0]
  bool done_ = false;
};

class IconvSource : public ByteSource {
 public:
  IconvSource(ByteSource& inner, iconv_t cd, std::string name)
      : inner_(inner), cd_(cd), name_(std::move(name)), in_(kChunk), out_(4 * kChunk) {}
  ~IconvSource() override { iconv_close(cd_); }
  IconvSource(const IconvSource&) = delete;
  IconvSource& operator=(const IconvSource&) = delete;

  Result<size_t> Read(char* buffer, size_t capacity) override {
    if (capacity == 0) return size_t{0};
    while (out_pos_ == out_len_) {
      if (finished_) return size_t{0};
      out_pos_ = out_len_ = 0;
      if (!in_eof_ && in_len_ < in_.size()) {
        Result<size_t> n = inner_.Read(in_.data() + in_len_, in_.size() - in_len_);
        if (!n.ok()) return n.status();
        if (*n == 0) in_eof_ = true;
        in_len_ += *n;
      }
      char* out = out_.data();
      size_t out_left = out_.size();
      if (in_len_ == 0 && in_eof_) {
        // Flush any shift state (stateful encodings), then stop.
        iconv(cd_, nullptr, nullptr, &out, &out_left);
        out_len_ = out_.size() - out_left;
        finished_ = true;
        continue;
      }
      char* in = in_.data();
      size_t in_left = in_len_;
      const size_t rc = iconv(cd_, &in, &in_left, &out, &out_left);
      const int err = rc == static_cast<size_t>(-1) ? errno : 0;
      const size_t consumed = in_len_ - in_left;
      out_len_ = out_.size() - out_left;
      if (err == EILSEQ) {
        return Status::InvalidArgument("byte offset " + std::to_string(base_ + consumed) +
                                       " is not valid " + name_);
      }
      if (err == EINVAL && in_eof_) {
        return Status::InvalidArgument("the input ends inside a " + name_ +
                                       " sequence starting at byte offset " +
                                       std::to_string(base_ + consumed));
      }
      if (err != 0 && err != EINVAL && err != E2BIG) {
        return Status::Internal("conversion from " + name_ + " failed: " + std::strerror(err));
      }
      // EINVAL before the end: an incomplete sequence; keep it and read more.
      std::memmove(in_.data(), in, in_left);
      in_len_ = in_left;
      base_ += consumed;
    }
    const size_t n = std::min(capacity, out_len_ - out_pos_);
    std::memcpy(buffer, out_.data() + out_pos_, n);
    out_pos_ += n;
    return n;
  }

 private:
  ByteSource& inner_;
  iconv_t cd_;
  std::string name_;
  std::vector<char> in_, out_;
  size_t in_len_ = 0, out_pos_ = 0, out_len_ = 0;
  uint64_t base_ = 0;  // input offset of in_[0]
  bool in_eof_ = false, finished_ = false;
};

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return s;
}

// Charset names come from uploaders. iconv treats suffixes such as
// "//IGNORE" as instructions (silently dropping bad bytes) and "" as the
// locale's charset, so only plain names are passed on.
bool IsPlainCharsetName(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// The name for a message: quoted, and neither long nor holding control or
// non-ASCII bytes, as it comes from the uploader and may end up in logs.
std::string Quoted(const std::string& name) {
  if (name.size() > 40) return "(a name of " + std::to_string(name.size()) + " bytes)";
  std::string out = "\"";
  for (char c : name) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  return out + "\"";
}

}  // namespace

Result<std::unique_ptr<ByteSource>> MakeUtf8Source(ByteSource& inner, const std::string& charset) {
  const std::string lower = Lower(charset);
  if (lower == "utf-8" || lower == "utf8") {
    return std::unique_ptr<ByteSource>(new Utf8CheckingSource(inner));
  }
  if (!IsPlainCharsetName(lower))
    return Status::InvalidArgument("unknown charset " + Quoted(charset));
  // glibc knows the Kazakh code page only as RK1048.
  std::string name = lower;
  if (lower == "rk1048" || lower == "kz-1048" || lower == "kz1048") name = "RK1048";
  iconv_t cd = iconv_open("UTF-8", name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return Status::InvalidArgument("unknown charset " + Quoted(charset));
  }
  std::string display = name;
  for (char& c : display)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - ('a' - 'A'));
  return std::unique_ptr<ByteSource>(new IconvSource(inner, cd, display));
}

}  // namespace gw
