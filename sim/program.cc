#include "sim/program.h"

namespace sim {

CompiledDistribution::CompiledDistribution(const Distribution& d) : d_(d) {
  if (d.kind != Distribution::Kind::kLognormal) return;
  const double sigma2 = std::log1p(d.cv * d.cv);
  sigma_ = std::sqrt(sigma2);
  half_sigma2_ = sigma2 / 2;
}

namespace {

class Compiler {
 public:
  Compiler(const App& app, Program& program) : app_(app), p_(program) {}

  void Sequence(const std::vector<Step>& steps) {
    for (const Step& s : steps) {
      for (int r = 0; r < s.repeat; ++r) One(s);
    }
  }

 private:
  void One(const Step& s) {
    Instr in;
    in.probability = s.probability;
    switch (s.kind) {
      case Step::Kind::kCpu:
        in.op = Instr::Op::kCpu;
        in.arg = static_cast<uint32_t>(p_.dists.size());
        p_.dists.emplace_back(s.cpu);
        p_.code.push_back(in);
        return;
      case Step::Kind::kCall: {
        const int svc = app_.FindService(s.service);
        in.op = Instr::Op::kCall;
        in.arg = static_cast<uint32_t>(p_.FindOperation(static_cast<uint32_t>(svc), s.operation));
        in.async = s.async;
        p_.code.push_back(in);
        return;
      }
      case Step::Kind::kStore:
        in.op = Instr::Op::kStore;
        in.delay = s.delay;
        p_.code.push_back(in);
        return;
      case Step::Kind::kSequence:
        if (s.probability >= 1) {
          Sequence(s.steps);
        } else {
          // A one-branch fork: skipping it jumps over the whole body.
          Fork(s, {&s});
        }
        return;
      case Step::Kind::kParallel: {
        std::vector<const Step*> branches;
        for (const Step& child : s.steps) {
          for (int r = 0; r < child.repeat; ++r) branches.push_back(&child);
        }
        Fork(s, branches);
        return;
      }
    }
  }

  // Emits a fork whose branches are `branches`; a sequence passes itself and runs its body.
  void Fork(const Step& s, const std::vector<const Step*>& branches) {
    const size_t at = p_.code.size();
    Instr fork;
    fork.op = Instr::Op::kFork;
    fork.probability = s.probability;
    fork.count = static_cast<uint32_t>(branches.size());
    p_.code.push_back(fork);
    std::vector<uint32_t> starts;
    for (const Step* b : branches) {
      starts.push_back(static_cast<uint32_t>(p_.code.size()));
      if (b == &s) {
        Sequence(s.steps);
      } else {
        Step single = *b;
        single.repeat = 1;
        One(single);
      }
      Instr end;
      end.op = Instr::Op::kEndBranch;
      p_.code.push_back(end);
    }
    p_.code[at].arg = static_cast<uint32_t>(p_.branch_starts.size());
    p_.code[at].next = static_cast<uint32_t>(p_.code.size());
    p_.branch_starts.insert(p_.branch_starts.end(), starts.begin(), starts.end());
  }

  const App& app_;
  Program& p_;
};

}  // namespace

int Program::FindOperation(uint32_t service, std::string_view name) const {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].service == service && ops[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Program Compile(const App& app) {
  Program p;
  for (size_t s = 0; s < app.services.size(); ++s) {
    for (const Operation& o : app.services[s].operations) {
      p.ops.push_back({.service = static_cast<uint32_t>(s), .name = o.name, .entry = 0});
    }
  }
  Compiler compiler(app, p);
  size_t i = 0;
  for (const Service& svc : app.services) {
    for (const Operation& o : svc.operations) {
      p.ops[i++].entry = static_cast<uint32_t>(p.code.size());
      compiler.Sequence(o.steps);
      Instr end;
      end.op = Instr::Op::kEnd;
      p.code.push_back(end);
    }
  }
  for (const RequestType& r : app.requests) {
    p.request_ops.push_back(static_cast<uint32_t>(
        p.FindOperation(static_cast<uint32_t>(app.FindService(r.service)), r.operation)));
  }
  return p;
}

}  // namespace sim
