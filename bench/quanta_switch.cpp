// quanta's raw context switch, without the runtime.
#include <memory>

#include "cases.hpp"
#include "pingpong.hpp"

namespace qbench {

Batch quanta_raw_switch() {
  auto pp = std::make_shared<QuantaPingPong>();
  return [pp](std::uint64_t ops) {
    const std::uint64_t trips = ops / 2;
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < trips; ++i) pp->round_trip();
    return Clock::now() - t0;
  };
}

Batch quanta_same_site_switch() {
  auto pp = std::make_shared<QuantaSameSite>();
  return [pp](std::uint64_t ops) {
    const auto t0 = Clock::now();
    pp->run(ops);
    return Clock::now() - t0;
  };
}

}  // namespace qbench
