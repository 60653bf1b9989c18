// The tkm-1 adapter: Turkmenistan's State Migration Service aggregate table
// (CSV, ',', UTF-8), as specified in FORMATS.md. The file holds counts, not
// persons: every valid row becomes one CellRecord via RecordSink::OnCell. It
// registers itself in the AdapterRegistry as "tkm-1"; NewAdapter() is for code
// and tests that want the adapter without going through the registry.
//
// Contract: gw::Adapter's, with these profile-specific whole-file faults (a
// non-OK InvalidArgument Status naming the row, line and column): a `senesi`
// that is not the snapshot's reference date, a `sany` that is not a whole
// number from 0 to 10,000,000, and the same cell (the key columns) twice. An
// unknown code in a key column is a row error (unknown_region,
// unknown_country, unknown_status, unknown_sex, unknown_age); a row whose
// field count differs from the header's is a row error (bad_row).
//
// Memory: the streaming CSV reader plus the set of cells seen so far for the
// duplicate rule. That set holds only valid cells, so it is bounded by the
// product of the code lists (6 regions x countries x 4 statuses x 2 sexes x 6
// age bands), not by the size of the file.
//
// Thread-safety: one instance per run, used by one thread.
#pragma once

#include <memory>

#include "gateway/schema/adapter.h"

namespace gw::tkm1 {

std::unique_ptr<Adapter> NewAdapter();

}  // namespace gw::tkm1
