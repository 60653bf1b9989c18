// Decodes one gzip member (RFC 1952) for tests that check what the gateway
// sends with Content-Encoding: gzip. Checks the header, the CRC-32 and the
// length in the trailer, and that nothing follows the member.
//
// Thread-safety: a free function without shared state.
#pragma once

#include <string>
#include <string_view>

#include "gateway/common/status.h"

namespace gw::test {

Result<std::string> Gunzip(std::string_view gz);

}  // namespace gw::test
