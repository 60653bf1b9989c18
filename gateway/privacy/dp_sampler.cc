#include "gateway/privacy/dp_sampler.h"

#include <sodium.h>

#include <cstring>
#include <limits>
#include <numeric>

namespace gw::dp {

bool RandomBits::NextBit() {
  if (bits_left_ == 0) {
    bit_buffer_ = NextU64();
    bits_left_ = 64;
  }
  bool bit = (bit_buffer_ & 1u) != 0;
  bit_buffer_ >>= 1;
  --bits_left_;
  return bit;
}

ChaChaBits::ChaChaBits(const std::array<unsigned char, 32>& key) : key_(key) {}

ChaChaBits::~ChaChaBits() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(block_.data(), block_.size());
}

void ChaChaBits::Refill() {
  static const std::array<unsigned char, 256> kZeros{};
  static const unsigned char kNonce[crypto_stream_chacha20_IETF_NONCEBYTES] = {};
  // XOR with zeros is the keystream itself; the counter continues across refills.
  crypto_stream_chacha20_ietf_xor_ic(block_.data(), kZeros.data(), block_.size(), kNonce, counter_,
                                     key_.data());
  counter_ += static_cast<uint32_t>(block_.size() / 64);
  used_ = 0;
}

uint64_t ChaChaBits::NextU64() {
  if (used_ + 8 > block_.size()) Refill();
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | block_[used_ + i];
  used_ += 8;
  return v;
}

uint64_t SampleUniformBelow(RandomBits& bits, uint64_t upper) {
  if (upper <= 1) return 0;
  // Values at or above the largest multiple of `upper` would fold unevenly.
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - (max % upper + 1) % upper;  // largest multiple of upper, minus 1
  while (true) {
    uint64_t v = bits.NextU64();
    if (v <= limit) return v % upper;
  }
}

bool SampleBernoulliRational(RandomBits& bits, uint64_t numer, uint64_t denom) {
  if (numer == 0) return false;
  if (numer >= denom) return true;
  return SampleUniformBelow(bits, denom) < numer;
}

bool SampleBernoulliExp1(RandomBits& bits, uint64_t numer, uint64_t denom) {
  // CKS20 Algorithm 1: the first k with Bernoulli(x / k) failing; exp(-x) is
  // the probability that this k is odd.
  uint64_t k = 1;
  while (true) {
    // x / k = numer / (denom * k), reduced so the product stays small.
    uint64_t g = std::gcd(numer, k);
    uint64_t n = numer / g, kk = k / g, d = 0;
    bool success;
    if (__builtin_mul_overflow(denom, kk, &d)) {
      // Bernoulli(a * b) is the AND of independent Bernoulli(a) and
      // Bernoulli(b); reached only for k beyond 10^12, which has probability
      // below 1/k!, but exactness must not depend on that.
      success = SampleBernoulliRational(bits, n, denom) && SampleBernoulliRational(bits, 1, kk);
    } else {
      success = SampleBernoulliRational(bits, n, d);
    }
    if (!success) return k % 2 == 1;
    ++k;
  }
}

bool SampleBernoulliExp(RandomBits& bits, uint64_t numer, uint64_t denom) {
  // exp(-x) = exp(-1)^floor(x) * exp(-(x - floor(x))).
  while (numer > denom) {
    if (!SampleBernoulliExp1(bits, 1, 1)) return false;
    numer -= denom;
  }
  return SampleBernoulliExp1(bits, numer, denom);
}

namespace {

// Geometric(1 - exp(-1)) by repeated trials (CKS20's slow sampler with x = 1).
uint64_t SampleGeometricExp1(RandomBits& bits) {
  uint64_t k = 0;
  while (SampleBernoulliExp1(bits, 1, 1)) ++k;
  return k;
}

}  // namespace

uint64_t SampleGeometricExp(RandomBits& bits, uint64_t numer, uint64_t denom) {
  if (numer == 0) return 0;
  uint64_t g = std::gcd(numer, denom);
  numer /= g;
  denom /= g;
  // CKS20 Algorithm 2: U uniform in [0, denom) accepted with probability
  // exp(-U / denom), V ~ Geometric(1 - exp(-1)); then floor((U + denom V) / numer).
  uint64_t u = SampleUniformBelow(bits, denom);
  while (!SampleBernoulliExp(bits, u, denom)) u = SampleUniformBelow(bits, denom);
  uint64_t v = SampleGeometricExp1(bits);
  uint64_t dv = 0, sum = 0;
  if (__builtin_mul_overflow(denom, v, &dv) || __builtin_add_overflow(dv, u, &sum)) {
    // V beyond 2^44 has probability below e^-(2^44); saturate rather than wrap.
    return std::numeric_limits<uint64_t>::max() / numer;
  }
  return sum / numer;
}

int64_t SampleDiscreteLaplace(RandomBits& bits, uint64_t scale_numer, uint64_t scale_denom) {
  if (scale_numer == 0) return 0;
  // CKS20 Algorithm 2 (discrete Laplace): a sign and a Geometric(1 - exp(-1/b))
  // magnitude, rejecting "-0" so that zero is not counted twice.
  while (true) {
    bool positive = bits.NextBit();
    uint64_t magnitude = SampleGeometricExp(bits, scale_denom, scale_numer);
    if (magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      magnitude = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    }
    if (positive || magnitude != 0) {
      return positive ? static_cast<int64_t>(magnitude) : -static_cast<int64_t>(magnitude);
    }
  }
}

}  // namespace gw::dp
