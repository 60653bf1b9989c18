// A streaming RFC 4180 reader with a configurable separator. It pulls from a
// ByteSource, so memory is bounded by the longest record, not the file.
//
// - Records end in CRLF or LF; a final record without a line end is accepted.
// - A field that starts with `"` is quoted: it may hold the separator, `""`
//   (a literal quote) and line breaks. After the closing quote only the
//   separator or the end of the record may follow.
// - A `"` inside an unquoted field is taken literally.
// - A UTF-8 BOM at the very start is skipped when `skip_bom` is set.
// - Blank lines (an empty record) are skipped.
// - Records and fields are capped (`max_record_bytes`), so hostile input cannot
//   exhaust memory.
//
// Thread-safety: one thread per reader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/common/byte_source.h"
#include "gateway/common/status.h"

namespace gw {

struct CsvOptions {
  char separator = ',';
  bool skip_bom = true;
  size_t max_record_bytes = 1 << 20;
};

class CsvReader {
 public:
  CsvReader(ByteSource& source, CsvOptions options);

  // Reads the next record into `fields`. Returns true with a record, false at
  // the end of input, or a non-OK status for a syntax fault (an unterminated
  // quote, text after a closing quote, an oversized record), whose message
  // names the line number.
  Result<bool> Next(std::vector<std::string>& fields);

  // Index of the last record returned: 0 for the first (the header), 1 for the
  // first data row, ... Blank lines are not counted.
  uint64_t record_index() const { return record_index_; }
  // Physical line (1-based) on which the last record started.
  uint64_t line() const { return record_line_; }

 private:
  Result<int> Get();  // next byte, or -1 at end
  ByteSource& source_;
  CsvOptions options_;
  std::vector<char> buffer_;
  size_t pos_ = 0, len_ = 0;
  bool eof_ = false, started_ = false;
  uint64_t line_ = 1, record_line_ = 0, record_index_ = 0, records_ = 0;
};

}  // namespace gw
