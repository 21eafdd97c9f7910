#pragma once

#include <cmath>
#include <cstdint>

namespace sim {

// splitmix64 (Steele, Lea, Flood 2014): one 64-bit word of state, so every simulated call can
// carry its own stream, seeded from its parent's, and draws the same numbers whatever order the
// event loop runs calls in. Written out here (not <random>) so a seed gives the same run with
// any standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1), 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe under log().
  double UniformOpen() { return static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53; }

  double Exponential(double mean) { return -mean * std::log(UniformOpen()); }

  // Standard normal by Box–Muller; one value per call keeps the stream position simple.
  double Normal() {
    constexpr double kTwoPi = 6.283185307179586;
    return std::sqrt(-2.0 * std::log(UniformOpen())) * std::cos(kTwoPi * Uniform());
  }

  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

// A well-mixed seed for a child stream: `salt` distinguishes siblings.
inline uint64_t DeriveSeed(uint64_t parent, uint64_t salt) {
  Rng r(parent ^ (salt * 0xd1342543de82ef95ULL));
  return r.Next();
}

}  // namespace sim
