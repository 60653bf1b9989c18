// Ed25519 keys and signatures (libsodium), and the key identifiers the
// gateway uses for them.
//
// Secret keys are kept as the 32-byte RFC 8032 private key (the seed), base64
// in a 0600 file; public keys as the raw 32 bytes, base64 on one line. A
// key's keyid is the first 16 lowercase hex digits of SHA-256(public key).
//
// Thread-safety: values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "gateway/common/status.h"

namespace gw {

inline constexpr size_t kEd25519SeedBytes = 32;
inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;

class SigningKey {
 public:
  static SigningKey Generate();
  // From a 32-byte seed (or a 64-byte libsodium secret key, whose first half is the seed).
  static Result<SigningKey> FromSecret(std::string_view secret);
  // Reads a base64 key file written by `gateway keygen` (mode must be 0600).
  static Result<SigningKey> Load(const std::string& path);

  const std::string& seed() const { return seed_; }
  const std::string& public_key() const { return public_key_; }
  // Computed once with the key: every signed response names it.
  const std::string& keyid() const { return keyid_; }
  std::string Sign(std::string_view message) const;  // 64 raw bytes

 private:
  std::string seed_, public_key_, secret_;  // secret_: libsodium's 64-byte form
  std::string keyid_;
};

bool VerifyEd25519(std::string_view public_key, std::string_view message, std::string_view signature);
std::string KeyIdFor(std::string_view public_key);
// Reads a public key file (base64 of 32 raw bytes, one line).
Result<std::string> LoadPublicKeyFile(const std::string& path);

}  // namespace gw
