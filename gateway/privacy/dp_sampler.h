// Exact samplers for differential privacy, in integer arithmetic only.
//
// A port of the algorithms of Canonne, Kamath and Steinke, "The Discrete
// Gaussian for Differential Privacy" (2020), as OpenDP implements them
// (traits/samplers/cks20): Bernoulli(p) for rational p, Bernoulli(exp(-x)) for
// rational x, Geometric(1 - exp(-x)), then the discrete Laplace distribution
//
//   P[X = x] = (1 - e^(-1/b)) / (1 + e^(-1/b)) * e^(-|x| / b)   for integer x,
//
// with rational scale b. No floating-point value is used anywhere: a
// floating-point Laplace sampler leaks the true value through the pattern of
// representable outputs (Mironov 2012), an exact integer one cannot.
//
// Randomness comes from a RandomBits source. ChaChaBits is libsodium's
// ChaCha20 keystream under a 32-byte key, so a sample is a deterministic
// function of its key: the gateway derives the key from a secret and the
// cell (see noise.h), which makes noise repeatable without storing it.
//
// Rationals are passed as numerator/denominator pairs of uint64_t. The
// gateway's scales are 10^6 / epsilon_micro, so every intermediate value fits
// in 64 bits; the one product that could overflow is guarded (see .cc).
//
// Thread-safety: a RandomBits object belongs to one thread; the functions are
// otherwise pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace gw::dp {

// A stream of uniformly random bits.
class RandomBits {
 public:
  virtual ~RandomBits() = default;
  virtual uint64_t NextU64() = 0;
  bool NextBit();

 private:
  uint64_t bit_buffer_ = 0;
  int bits_left_ = 0;
};

// libsodium's ChaCha20 (IETF) keystream under `key`, nonce 0, read from block
// counter 0 onwards.
class ChaChaBits : public RandomBits {
 public:
  explicit ChaChaBits(const std::array<unsigned char, 32>& key);
  ~ChaChaBits() override;
  uint64_t NextU64() override;

 private:
  void Refill();
  std::array<unsigned char, 32> key_;
  std::array<unsigned char, 256> block_{};
  size_t used_ = sizeof(block_);
  uint32_t counter_ = 0;
};

// Uniform integer in [0, upper), upper > 0, by rejection (no modulo bias).
uint64_t SampleUniformBelow(RandomBits& bits, uint64_t upper);
// Bernoulli(numer / denom), 0 <= numer <= denom, denom > 0.
bool SampleBernoulliRational(RandomBits& bits, uint64_t numer, uint64_t denom);
// Bernoulli(exp(-numer / denom)) for numer / denom in [0, 1].
bool SampleBernoulliExp1(RandomBits& bits, uint64_t numer, uint64_t denom);
// Bernoulli(exp(-numer / denom)) for any numer / denom >= 0.
bool SampleBernoulliExp(RandomBits& bits, uint64_t numer, uint64_t denom);
// Geometric(1 - exp(-numer / denom)): the number of failures before the first
// success, numer / denom >= 0.
uint64_t SampleGeometricExp(RandomBits& bits, uint64_t numer, uint64_t denom);
// Discrete Laplace with scale scale_numer / scale_denom (> 0).
int64_t SampleDiscreteLaplace(RandomBits& bits, uint64_t scale_numer, uint64_t scale_denom);

}  // namespace gw::dp
