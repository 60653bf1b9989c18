// The exact samplers against their exact distributions. Each test draws from
// ChaCha20 streams under fixed keys, so it is deterministic: it cannot flake,
// and it fails if the sampler's distribution is wrong.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "gateway/privacy/dp_sampler.h"

namespace gw::dp {
namespace {

std::array<unsigned char, 32> KeyFor(uint64_t seed) {
  std::array<unsigned char, 32> key{};
  for (int i = 0; i < 8; ++i) key[i] = static_cast<unsigned char>(seed >> (8 * i));
  key[31] = 0x5a;
  return key;
}

// Upper critical value of chi-square with k degrees of freedom at p = 0.0001
// (Wilson-Hilferty; z = 3.719).
double ChiSquareCritical(int k) {
  double a = 2.0 / (9.0 * k);
  return k * std::pow(1 - a + 3.719 * std::sqrt(a), 3);
}

// Pearson's statistic for observed counts against probabilities; bins with
// expected count under 20 are pooled into one.
double ChiSquare(const std::map<int64_t, int64_t>& observed, const std::map<int64_t, double>& p,
                 int64_t n, int& dof) {
  double stat = 0, pooled_expected = 0, covered = 0;
  int64_t pooled_observed = 0, counted = 0;
  dof = -1;
  for (const auto& [x, px] : p) {
    double e = px * static_cast<double>(n);
    auto it = observed.find(x);
    int64_t o = it == observed.end() ? 0 : it->second;
    covered += px;
    counted += o;
    if (e < 20) {
      pooled_expected += e;
      pooled_observed += o;
      continue;
    }
    stat += (o - e) * (o - e) / e;
    ++dof;
  }
  // Everything outside the listed values joins the pooled bin.
  pooled_expected += (1 - covered) * static_cast<double>(n);
  pooled_observed += n - counted;
  if (pooled_expected > 0) {
    stat += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++dof;
  }
  return stat;
}

}  // namespace

TEST_CASE("discrete Laplace matches its probability mass function (chi-square)", "[dp]") {
  // (scale numerator, denominator): scale = 1/epsilon for epsilon 0.1, 0.5, 1, 2 and 1/3.
  const std::vector<std::pair<uint64_t, uint64_t>> scales = {
      {1000000, 100000}, {1000000, 500000}, {1000000, 1000000}, {1000000, 2000000}, {3, 1}};
  const int64_t n = 200000;
  for (const auto& [num, den] : scales) {
    const double b = static_cast<double>(num) / static_cast<double>(den);
    std::map<int64_t, int64_t> observed;
    ChaChaBits bits(KeyFor(num * 31 + den));
    for (int64_t i = 0; i < n; ++i) ++observed[SampleDiscreteLaplace(bits, num, den)];
    std::map<int64_t, double> pmf;
    const double c = (1 - std::exp(-1 / b)) / (1 + std::exp(-1 / b));
    for (int64_t x = -400; x <= 400; ++x) pmf[x] = c * std::exp(-std::abs(static_cast<double>(x)) / b);
    int dof = 0;
    double stat = ChiSquare(observed, pmf, n, dof);
    INFO("scale " << b << ": chi-square " << stat << " with " << dof << " degrees of freedom");
    REQUIRE(dof >= 2);
    CHECK(stat < ChiSquareCritical(dof));
    // Symmetric around 0 and with the right variance 2 e^(-1/b) / (1 - e^(-1/b))^2.
    double sum = 0, sum2 = 0;
    for (const auto& [x, k] : observed) {
      sum += static_cast<double>(x * k);
      sum2 += static_cast<double>(x * x) * static_cast<double>(k);
    }
    double var = 2 * std::exp(-1 / b) / std::pow(1 - std::exp(-1 / b), 2);
    CHECK(std::abs(sum / n) < 5 * std::sqrt(var / n));
    CHECK(std::abs(sum2 / n - var) < 0.05 * var);
  }
}

TEST_CASE("a wrong scale is detected by the same chi-square test", "[dp]") {
  // The test must be able to fail: samples of scale 2 judged against scale 1.6.
  const int64_t n = 200000;
  std::map<int64_t, int64_t> observed;
  ChaChaBits bits(KeyFor(7));
  for (int64_t i = 0; i < n; ++i) ++observed[SampleDiscreteLaplace(bits, 2, 1)];
  std::map<int64_t, double> pmf;
  const double b = 1.6, c = (1 - std::exp(-1 / b)) / (1 + std::exp(-1 / b));
  for (int64_t x = -200; x <= 200; ++x) pmf[x] = c * std::exp(-std::abs(static_cast<double>(x)) / b);
  int dof = 0;
  double stat = ChiSquare(observed, pmf, n, dof);
  CHECK(stat > ChiSquareCritical(dof));
}

TEST_CASE("Bernoulli(exp(-x)) and Bernoulli(p) have the right probabilities", "[dp]") {
  const int64_t n = 100000;
  const std::vector<std::pair<uint64_t, uint64_t>> xs = {{0, 1}, {1, 3}, {1, 1}, {5, 2}, {7, 1}, {123456, 100000}};
  for (const auto& [num, den] : xs) {
    ChaChaBits bits(KeyFor(num + 1000 * den));
    int64_t hits = 0;
    for (int64_t i = 0; i < n; ++i) hits += SampleBernoulliExp(bits, num, den) ? 1 : 0;
    double p = std::exp(-static_cast<double>(num) / static_cast<double>(den));
    double sd = std::sqrt(p * (1 - p) / n);
    INFO("x = " << num << "/" << den);
    CHECK(std::abs(static_cast<double>(hits) / n - p) <= 4.5 * sd + 1e-12);
  }
  ChaChaBits bits(KeyFor(99));
  int64_t hits = 0;
  for (int64_t i = 0; i < n; ++i) hits += SampleBernoulliRational(bits, 3, 7) ? 1 : 0;
  CHECK(std::abs(static_cast<double>(hits) / n - 3.0 / 7) < 4.5 * std::sqrt(3.0 / 7 * 4 / 7 / n));
  CHECK_FALSE(SampleBernoulliRational(bits, 0, 5));
  CHECK(SampleBernoulliRational(bits, 5, 5));
}

TEST_CASE("geometric and uniform samplers match their distributions", "[dp]") {
  const int64_t n = 200000;
  ChaChaBits bits(KeyFor(4242));
  std::map<int64_t, int64_t> observed;
  // Geometric(1 - exp(-x)) with x = 3/4: P[k] = (1 - q) q^k, q = exp(-3/4).
  for (int64_t i = 0; i < n; ++i) ++observed[static_cast<int64_t>(SampleGeometricExp(bits, 3, 4))];
  std::map<int64_t, double> pmf;
  const double q = std::exp(-0.75);
  for (int64_t k = 0; k < 200; ++k) pmf[k] = (1 - q) * std::pow(q, static_cast<double>(k));
  int dof = 0;
  double stat = ChiSquare(observed, pmf, n, dof);
  INFO("geometric chi-square " << stat << " dof " << dof);
  CHECK(stat < ChiSquareCritical(dof));

  std::map<int64_t, int64_t> uniform;
  for (int64_t i = 0; i < n; ++i) ++uniform[static_cast<int64_t>(SampleUniformBelow(bits, 7))];
  std::map<int64_t, double> flat;
  for (int64_t k = 0; k < 7; ++k) flat[k] = 1.0 / 7;
  stat = ChiSquare(uniform, flat, n, dof);
  CHECK(stat < ChiSquareCritical(dof));
  CHECK(uniform.rbegin()->first == 6);
  CHECK(SampleUniformBelow(bits, 1) == 0);
}

TEST_CASE("the same key gives the same samples, another key others", "[dp]") {
  ChaChaBits a(KeyFor(1)), b(KeyFor(1)), c(KeyFor(2));
  int same = 0;
  for (int i = 0; i < 1000; ++i) {
    int64_t x = SampleDiscreteLaplace(a, 2, 1);
    CHECK(x == SampleDiscreteLaplace(b, 2, 1));
    same += x == SampleDiscreteLaplace(c, 2, 1) ? 1 : 0;
  }
  // Two independent scale-2 samples agree with probability about 0.13.
  CHECK(same < 250);
}

}  // namespace gw::dp
