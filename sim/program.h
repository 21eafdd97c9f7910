#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/app.h"

namespace sim {

// The app's operations compiled to one flat instruction list, so running a call is a loop over
// an array instead of a walk over the YAML tree. Repeats are unrolled.
struct Instr {
  enum class Op : uint8_t {
    kCpu,        // burn dists[arg] seconds of CPU on the call's replica
    kCall,       // call ops[arg]; wait for the reply unless `async`
    kStore,      // wait `delay`
    kFork,       // run the `count` branches starting at branch_starts[arg..], then go to `next`
    kEndBranch,  // a branch of a fork is done
    kEnd,        // the operation is done
  };
  Op op = Op::kEnd;
  bool async = false;
  double probability = 1;
  uint32_t arg = 0;
  uint32_t count = 0;
  uint32_t next = 0;
  double delay = 0;
};

// A Distribution ready to draw from: the lognormal's σ and σ²/2 are worked out once instead of on
// every draw. The arithmetic is Distribution::Sample's, so a seed draws the same values bit for
// bit.
class CompiledDistribution {
 public:
  explicit CompiledDistribution(const Distribution& d);

  double Sample(Rng& rng) const {
    if (d_.kind != Distribution::Kind::kLognormal) return d_.Sample(rng);
    return d_.mean * std::exp(sigma_ * rng.Normal() - half_sigma2_);
  }

 private:
  Distribution d_;
  double sigma_ = 0;
  double half_sigma2_ = 0;
};

struct CompiledOperation {
  uint32_t service = 0;  // index into App::services
  std::string name;
  uint32_t entry = 0;  // first instruction
};

struct Program {
  std::vector<Instr> code;
  std::vector<uint32_t> branch_starts;
  std::vector<CompiledDistribution> dists;
  std::vector<CompiledOperation> ops;  // in App order: service by service, operation by operation
  std::vector<uint32_t> request_ops;   // App::requests[i] → index into ops

  // Index into ops of service/operation, or -1.
  int FindOperation(uint32_t service, std::string_view name) const;
};

// `app` must have passed ParseApp's validation.
Program Compile(const App& app);

}  // namespace sim
