// Streaming content digests (SHA-256 via libsodium), used for snapshot
// identity (idempotent re-uploads) and, later, RFC 9530 Content-Digest.
//
// Thread-safety: one thread per Sha256 object.
#pragma once

#include <sodium.h>

#include <string>
#include <string_view>

namespace gw {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view bytes);
  std::string Final();  // 32 raw bytes; the object must not be used afterwards

 private:
  crypto_hash_sha256_state state_;
};

// SHA-256 of `bytes` in one call: 32 raw bytes.
std::string Sha256Of(std::string_view bytes);

class Sha512 {
 public:
  Sha512();
  void Update(std::string_view bytes);
  std::string Final();  // 64 raw bytes

 private:
  crypto_hash_sha512_state state_;
};

// "sha256:<64 lowercase hex digits>", the digest form used in receipts.
std::string FormatDigest(std::string_view raw_sha256);

}  // namespace gw
