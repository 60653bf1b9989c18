#include "gateway/crypto/digest.h"

#include "gateway/crypto/keys.h"

namespace gw {

Sha256::Sha256() {
  InitCrypto();
  crypto_hash_sha256_init(&state_);
}

void Sha256::Update(std::string_view bytes) {
  crypto_hash_sha256_update(&state_, reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size());
}

std::string Sha256::Final() {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256_final(&state_, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string Sha256Of(std::string_view bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.Final();
}

Sha512::Sha512() {
  InitCrypto();
  crypto_hash_sha512_init(&state_);
}

void Sha512::Update(std::string_view bytes) {
  crypto_hash_sha512_update(&state_, reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size());
}

std::string Sha512::Final() {
  std::string out(crypto_hash_sha512_BYTES, '\0');
  crypto_hash_sha512_final(&state_, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string FormatDigest(std::string_view raw_sha256) { return "sha256:" + ToHex(raw_sha256); }

}  // namespace gw
