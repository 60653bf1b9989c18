// The adapter interface: one implementation per national export profile
// (adapters/<profile>/), each registering itself in the AdapterRegistry.
//
// An adapter reads a national file from a ByteSource and turns every valid row
// into a shared-schema record, reporting every invalid row as a RowError. It
// streams: memory must not grow with the input. Adapters know nothing of
// storage, pseudonymisation or HTTP; they depend only on the shared schema and
// common code.
//
// Contract of Run():
//  - calls sink.OnPerson / sink.OnCell for every valid row in file order, and
//    sink.OnRowError for every invalid row;
//  - returns a non-OK Status for a whole-file fault (missing column, bad
//    charset, malformed syntax, wrong reference date, empty file), with a
//    message that says what is wrong and where (line, byte offset or element
//    ordinal), or the first non-OK Status a sink call returned;
//  - never puts an identifying value into a Status or a RowError.
//
// Thread-safety: an Adapter instance is used by one thread; create one per run.
#pragma once

#include <memory>
#include <string>

#include "gateway/common/byte_source.h"
#include "gateway/common/date.h"
#include "gateway/common/status.h"
#include "gateway/schema/records.h"

namespace gw {

struct AdapterContext {
  std::string country;  // reporting country, alpha-3
  Date ref_date;        // the snapshot's reference date
  std::string charset;  // as named by the uploader, lower case; empty: profile default
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // `row` as in RowError. A non-OK return aborts the run with that status.
  virtual Status OnPerson(uint64_t row, PersonRecord&& person) = 0;
  virtual Status OnCell(uint64_t row, CellRecord&& cell) = 0;
  virtual Status OnRowError(RowError&& error) = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual Status Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) = 0;
};

}  // namespace gw
