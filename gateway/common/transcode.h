// Charset handling for national files: a ByteSource that converts a declared
// charset (e.g. RK1048, the Kazakh Windows code page) to UTF-8 with iconv, and
// one that checks UTF-8 validity, both streaming. Bytes that are invalid in the
// declared charset fail the stream with their byte offset.
//
// Thread-safety: one thread per source.
#pragma once

#include <memory>
#include <string>

#include "gateway/common/byte_source.h"

namespace gw {

// Wraps `inner` so that it yields UTF-8. `charset` is case-insensitive:
// "utf-8"/"utf8" validates UTF-8 (a truncated sequence at the end or any
// invalid byte is an error naming its byte offset); anything else is converted
// with iconv ("rk1048", "kz-1048", ... as glibc names them). Unknown charsets
// are an InvalidArgument error naming the charset.
Result<std::unique_ptr<ByteSource>> MakeUtf8Source(ByteSource& inner, const std::string& charset);

}  // namespace gw
