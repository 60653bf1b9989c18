#include "gateway/crypto/key_ring.h"

#include <filesystem>

namespace gw {

std::string KeyRing::PseudonymKeyFile(const std::string& country) {
  return "pseudonym-" + country + ".key";
}

Status KeyRing::CreateMissing(const std::vector<std::string>& countries) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Status::IoError("cannot create " + dir_ + ": " + ec.message());
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ec);
  std::vector<std::string> files = {kTokenKeyFile, kGatewayKeyFile, kNoiseKeyFile};
  for (const auto& c : countries) files.push_back(PseudonymKeyFile(c));
  for (const auto& f : files) {
    std::string path = dir_ + "/" + f;
    if (std::filesystem::exists(path)) continue;
    GW_RETURN_IF_ERROR(WriteSecretKeyFile(path, RandomBytes(32)));
  }
  return Status::Ok();
}

Result<std::string> KeyRing::Load(const std::string& file, size_t bytes) {
  auto it = raw_.find(file);
  if (it != raw_.end()) return it->second;
  GW_ASSIGN_OR_RETURN(std::string key, ReadSecretKeyFile(dir_ + "/" + file, bytes));
  raw_[file] = key;
  return key;
}

Result<const Pseudonymiser*> KeyRing::PseudonymiserFor(const std::string& country) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pseudonymisers_.find(country);
  if (it != pseudonymisers_.end()) return static_cast<const Pseudonymiser*>(it->second.get());
  auto key = Load(PseudonymKeyFile(country), kPseudonymKeyBytes);
  if (!key.ok()) {
    return key.status().WithContext("no usable pseudonym key for " + country);
  }
  auto p = std::make_unique<Pseudonymiser>(country, std::move(key).value());
  const Pseudonymiser* raw = p.get();
  pseudonymisers_[country] = std::move(p);
  return raw;
}

Result<std::string> KeyRing::TokenKey() {
  std::lock_guard<std::mutex> lock(mu_);
  return Load(kTokenKeyFile, 32);
}

Result<std::string> KeyRing::NoiseMasterKey() {
  std::lock_guard<std::mutex> lock(mu_);
  return Load(kNoiseKeyFile, 32);
}

bool KeyRing::Has(const std::string& file) const {
  std::error_code ec;
  return std::filesystem::exists(dir_ + "/" + file, ec);
}

}  // namespace gw

namespace gw {

Result<const SigningKey*> KeyRing::GatewayKey() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!gateway_key_) {
    GW_ASSIGN_OR_RETURN(SigningKey key, SigningKey::Load(dir_ + "/" + kGatewayKeyFile));
    gateway_key_ = std::make_unique<SigningKey>(std::move(key));
  }
  return static_cast<const SigningKey*>(gateway_key_.get());
}

}  // namespace gw
