// Implements csv_reader.h. The reader owns one 64 KiB buffer and scans it
// directly: runs of ordinary bytes are appended to a field in one go, and the
// source (a virtual call) is consulted only when the buffer runs dry. Field
// strings of the caller's vector are reused between records so that a steady
// stream of rows allocates nothing.
#include "gateway/common/csv_reader.h"

#include <cstring>

namespace gw {
namespace {

constexpr size_t kBufferSize = 64 * 1024;

enum class State { kFieldStart, kUnquoted, kQuoted, kAfterQuote };

}  // namespace

CsvReader::CsvReader(ByteSource& source, CsvOptions options)
    : source_(source), options_(options), buffer_(kBufferSize) {}

Result<int> CsvReader::Get() {
  if (pos_ < len_) return static_cast<int>(static_cast<unsigned char>(buffer_[pos_++]));
  if (eof_) return -1;
  Result<size_t> n = source_.Read(buffer_.data(), buffer_.size());
  if (!n.ok()) return n.status();
  if (*n == 0) {
    eof_ = true;
    pos_ = len_ = 0;
    return -1;
  }
  len_ = *n;
  pos_ = 1;
  return static_cast<int>(static_cast<unsigned char>(buffer_[0]));
}

Result<bool> CsvReader::Next(std::vector<std::string>& fields) {
  if (!started_) {
    started_ = true;
    // A BOM may arrive split over several reads; gather three bytes first.
    while (len_ < 3 && !eof_) {
      Result<size_t> n = source_.Read(buffer_.data() + len_, buffer_.size() - len_);
      if (!n.ok()) return n.status();
      if (*n == 0) eof_ = true;
      len_ += *n;
    }
    if (options_.skip_bom && len_ >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) {
      pos_ = 3;
    }
  }

  const char sep = options_.separator;
  const size_t cap = options_.max_record_bytes;
  size_t nfields = 0;
  std::string* field = nullptr;
  State state = State::kFieldStart;
  bool any = false;  // the record holds something beyond a bare line end
  size_t record_bytes = 0;
  uint64_t start_line = line_;

  auto start_field = [&]() {
    if (nfields < fields.size()) {
      fields[nfields].clear();
    } else {
      fields.emplace_back();
    }
    field = &fields[nfields++];
  };
  auto too_large = [&]() {
    return Status::InvalidArgument("record starting on line " + std::to_string(start_line) +
                                   " exceeds the limit of " + std::to_string(cap) +
                                   " bytes (an unterminated quote?)");
  };
  // Ends the record. Returns true if it is to be returned, false if it was a
  // blank line and reading must go on with a fresh record.
  auto finish = [&]() {
    if (nfields == 1 && !any) {
      nfields = 0;
      field = nullptr;
      state = State::kFieldStart;
      record_bytes = 0;
      start_line = line_;
      return false;
    }
    fields.resize(nfields);
    record_line_ = start_line;
    record_index_ = records_++;
    return true;
  };
  // After a CR: consumes a following LF. Returns 1 if the CR ends the line
  // (LF or end of input follows), 0 if it is a lone CR, or an error.
  auto cr_ends_line = [&]() -> Result<int> {
    Result<int> c = Get();
    if (!c.ok()) return c.status();
    if (*c == '\n') {
      ++line_;
      return 1;
    }
    if (*c < 0) return 1;
    --pos_;  // push back: Get() just returned buffer_[pos_ - 1]
    return 0;
  };

  while (true) {
    if (pos_ == len_) {
      Result<int> c = Get();
      if (!c.ok()) return c.status();
      if (*c < 0) {
        // End of input.
        switch (state) {
          case State::kQuoted:
            return Status::InvalidArgument(
                "unterminated quoted field in the record starting on line " +
                std::to_string(start_line));
          case State::kFieldStart:
            if (nfields == 0) return false;
            start_field();  // the empty field after a trailing separator
            break;
          case State::kUnquoted:
          case State::kAfterQuote:
            break;
        }
        if (finish()) return true;
        return false;
      }
      --pos_;  // leave the byte in the buffer for the scanning below
    }

    const char* const base = buffer_.data();
    const char* p = base + pos_;
    const char* const end = base + len_;

    switch (state) {
      case State::kFieldStart:
        start_field();
        if (*p == '"') {
          ++pos_;
          ++record_bytes;
          any = true;
          state = State::kQuoted;
        } else {
          state = State::kUnquoted;
        }
        break;

      case State::kUnquoted: {
        const char* q = p;
        while (q < end && *q != sep && *q != '\n' && *q != '\r') ++q;
        const size_t run = static_cast<size_t>(q - p);
        if (run > 0) {
          record_bytes += run;
          if (record_bytes > cap) return too_large();
          field->append(p, run);
          any = true;
          pos_ += run;
        }
        if (q == end) break;
        const char c = *q;
        ++pos_;
        if (c == sep) {
          ++record_bytes;
          any = true;
          state = State::kFieldStart;
        } else if (c == '\n') {
          ++line_;
          if (finish()) return true;
        } else {  // '\r'
          Result<int> ends = cr_ends_line();
          if (!ends.ok()) return ends.status();
          if (*ends == 1) {
            if (finish()) return true;
          } else {
            // A lone CR inside a field is data.
            if (++record_bytes > cap) return too_large();
            field->push_back('\r');
            any = true;
          }
        }
        break;
      }

      case State::kQuoted: {
        const char* q = p;
        while (q < end && *q != '"' && *q != '\n') ++q;
        const size_t run = static_cast<size_t>(q - p);
        record_bytes += run + (q < end ? 1 : 0);
        if (record_bytes > cap) return too_large();
        field->append(p, run);
        pos_ += run;
        if (q == end) break;
        ++pos_;
        if (*q == '\n') {
          ++line_;
          field->push_back('\n');
        } else {
          state = State::kAfterQuote;
        }
        break;
      }

      case State::kAfterQuote: {
        const char c = *p;
        ++pos_;
        if (c == '"') {
          if (++record_bytes > cap) return too_large();
          field->push_back('"');
          state = State::kQuoted;
        } else if (c == sep) {
          ++record_bytes;
          state = State::kFieldStart;
        } else if (c == '\n') {
          ++line_;
          if (finish()) return true;
        } else if (c == '\r') {
          Result<int> ends = cr_ends_line();
          if (!ends.ok()) return ends.status();
          if (*ends == 0) {
            return Status::InvalidArgument("line " + std::to_string(line_) +
                                           ": a carriage return after a closing quote is not "
                                           "followed by a line feed");
          }
          if (finish()) return true;
        } else {
          return Status::InvalidArgument("line " + std::to_string(line_) +
                                         ": unexpected text after a closing quote (a quote inside "
                                         "a quoted field must be doubled)");
        }
        break;
      }
    }
  }
}

}  // namespace gw
