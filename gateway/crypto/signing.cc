#include "gateway/crypto/signing.h"

#include <sodium.h>

#include <fstream>
#include <sstream>

#include "gateway/crypto/digest.h"
#include "gateway/crypto/keys.h"

namespace gw {

SigningKey SigningKey::Generate() { return *FromSecret(RandomBytes(kEd25519SeedBytes)); }

Result<SigningKey> SigningKey::FromSecret(std::string_view secret) {
  InitCrypto();
  if (secret.size() != kEd25519SeedBytes && secret.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("an Ed25519 secret key has 32 bytes (or 64 in libsodium's form)");
  }
  SigningKey k;
  k.seed_ = std::string(secret.substr(0, kEd25519SeedBytes));
  k.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  k.secret_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(k.public_key_.data()),
                           reinterpret_cast<unsigned char*>(k.secret_.data()),
                           reinterpret_cast<const unsigned char*>(k.seed_.data()));
  if (secret.size() == crypto_sign_SECRETKEYBYTES && secret.substr(32) != k.public_key_) {
    return Status::InvalidArgument("the 64-byte secret key's public half does not match its seed");
  }
  k.keyid_ = KeyIdFor(k.public_key_);
  return k;
}

Result<SigningKey> SigningKey::Load(const std::string& path) {
  auto bytes = ReadSecretKeyFile(path, kEd25519SeedBytes);
  if (!bytes.ok()) {
    auto full = ReadSecretKeyFile(path, crypto_sign_SECRETKEYBYTES);
    if (!full.ok()) return bytes.status();
    return FromSecret(*full);
  }
  return FromSecret(*bytes);
}

std::string SigningKey::Sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()));
  return sig;
}

bool VerifyEd25519(std::string_view public_key, std::string_view message, std::string_view signature) {
  InitCrypto();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

std::string KeyIdFor(std::string_view public_key) {
  return ToHex(Sha256Of(public_key)).substr(0, 16);
}

Result<std::string> LoadPublicKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read public key file " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto bytes = FromBase64(text.str());
  if (!bytes.ok() || bytes->size() != kEd25519PublicKeyBytes) {
    return Status::InvalidArgument(path + " does not hold a base64 Ed25519 public key of 32 bytes");
  }
  return bytes;
}

}  // namespace gw
