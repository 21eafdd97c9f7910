#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string_view>

#include "recommender/policies/proposal.h"

namespace recommender::policies {

// The value of a proposal's term; fails the test if the policy did not export it.
inline double TermOf(const Proposal& p, std::string_view name) {
  for (const auto& [n, v] : p.terms) {
    if (n == name) return v;
  }
  ADD_FAILURE() << p.policy << " has no term " << name;
  return NAN;
}

}  // namespace recommender::policies
