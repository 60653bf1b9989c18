// KeyRing: the deployment's secret keys in DIR/keys/, loaded on first use.
//
//   pseudonym-<CC>.key  32 bytes per reporting country (person keys)
//   token.key           32 bytes (hashing bearer tokens)
//   gateway.key         the gateway's own Ed25519 private key (signing responses)
//   dp-noise.key        32 bytes, the master secret of differential-privacy
//                       noise (privacy/noise.h); losing it would let repeated
//                       questions get fresh noise, so it is backed up with the
//                       database and never regenerated while a ledger exists
//
// Thread-safety: thread-safe (a mutex guards the cache).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/common/status.h"
#include "gateway/crypto/keys.h"
#include "gateway/crypto/signing.h"

namespace gw {

class KeyRing {
 public:
  explicit KeyRing(std::string keys_dir) : dir_(std::move(keys_dir)) {}

  static std::string PseudonymKeyFile(const std::string& country);
  static constexpr const char* kTokenKeyFile = "token.key";
  static constexpr const char* kGatewayKeyFile = "gateway.key";
  static constexpr const char* kNoiseKeyFile = "dp-noise.key";

  // Creates any of the standard keys that do not exist yet (never overwrites).
  Status CreateMissing(const std::vector<std::string>& countries);

  Result<const Pseudonymiser*> PseudonymiserFor(const std::string& country);
  Result<std::string> TokenKey();
  Result<std::string> NoiseMasterKey();
  bool Has(const std::string& file) const;
  Result<const SigningKey*> GatewayKey();
  const std::string& dir() const { return dir_; }

 private:
  Result<std::string> Load(const std::string& file, size_t bytes);
  std::string dir_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Pseudonymiser>> pseudonymisers_;  // guarded by mu_
  std::map<std::string, std::string> raw_;                                 // guarded by mu_
  std::unique_ptr<SigningKey> gateway_key_;                                // guarded by mu_
};

}  // namespace gw
