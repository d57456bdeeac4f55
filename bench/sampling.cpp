#include "sampling.hpp"

#include <algorithm>

namespace qbench {

std::vector<Stats> sample_interleaved(const std::vector<Case>& cases, int samples) {
  // Warm-up: caches, lazily built scheduler state, stack pools.
  for (const Case& c : cases) c.batch(c.ops);
  std::vector<std::vector<double>> per_op(cases.size());
  for (auto& v : per_op) v.reserve(static_cast<std::size_t>(samples));
  for (int s = 0; s < samples; ++s) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto elapsed = std::chrono::duration<double, std::nano>(cases[i].batch(cases[i].ops));
      per_op[i].push_back(elapsed.count() / static_cast<double>(cases[i].ops));
    }
  }
  std::vector<Stats> out(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::vector<double>& v = per_op[i];
    std::sort(v.begin(), v.end());
    Stats& st = out[i];
    st.samples = samples;
    st.ops_per_sample = cases[i].ops;
    st.min_ns = v.front();
    st.max_ns = v.back();
    const std::size_t n = v.size();
    st.median_ns = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  return out;
}

}  // namespace qbench
