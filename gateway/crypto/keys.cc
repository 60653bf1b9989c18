#include "gateway/crypto/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gw {

void InitCrypto() {
  static const int ok = sodium_init();
  if (ok < 0) std::abort();  // no safe randomness: nothing may run
}

std::string RandomBytes(size_t n) {
  InitCrypto();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string ToHex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

static std::string Base64(std::string_view bytes, int variant) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string ToBase64(std::string_view bytes) {
  return Base64(bytes, sodium_base64_VARIANT_ORIGINAL);
}
std::string ToBase64Url(std::string_view bytes) {
  return Base64(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

Result<std::string> FromBase64(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status::InvalidArgument("not valid base64");
  }
  out.resize(len);
  return out;
}

Status WriteSecretKeyFile(const std::string& path, std::string_view secret) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::Conflict(path + " already exists; keys are never overwritten");
    return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  }
  std::string text = ToBase64(secret) + "\n";
  ssize_t n = ::write(fd, text.data(), text.size());
  bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::IoError("cannot write " + path);
  return Status::Ok();
}

Result<std::string> ReadSecretKeyFile(const std::string& path, size_t expected_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound("key file " + path + " is missing: " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::PermissionDenied("key file " + path +
                                    " is readable by group or others; run chmod 600 on it");
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Status::IoError("cannot read key file " + path);
  auto bytes = FromBase64(text.str());
  if (!bytes.ok() || bytes->size() != expected_bytes) {
    return Status::Corruption("key file " + path + " does not hold a base64 key of " +
                              std::to_string(expected_bytes) + " bytes");
  }
  return bytes;
}

Pseudonymiser::Pseudonymiser(std::string country, std::string key)
    : country_(std::move(country)), key_(std::move(key)) {
  InitCrypto();
}

PersonKey Pseudonymiser::KeyFor(std::string_view person_id) const {
  PersonKey out{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, reinterpret_cast<const unsigned char*>(key_.data()), key_.size(),
                          out.size());
  // Domain separation: the country and a zero byte, then the identifier.
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(country_.data()),
                            country_.size());
  const unsigned char zero = 0;
  crypto_generichash_update(&st, &zero, 1);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(person_id.data()),
                            person_id.size());
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

std::string HashToken(std::string_view token_key, std::string_view token) {
  InitCrypto();
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                     reinterpret_cast<const unsigned char*>(token_key.data()), token_key.size());
  return out;
}

bool SecureEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace gw
