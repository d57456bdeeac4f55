// ULTs hammering malloc/free, new/delete and std::string under a 100 µs time
// slice: allocator locks are kernel-thread locks, so a preemption inside the
// allocator would deadlock or corrupt it. Runs QUANTA_STRESS_SECONDS (default
// 10) and checks every result; meant to run under ASan as well.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

int stress_seconds() {
  const char* v = std::getenv("QUANTA_STRESS_SECONDS");
  int s = v ? std::atoi(v) : 10;
  return s > 0 ? s : 10;
}

TEST(PreemptMallocStress, AllocatorsUnderFastPreemption) {
  quanta::Runtime rt(quanta::test::preemptive(2, 100us));
  std::atomic<bool> stop{false};
  std::vector<quanta::JoinHandle<long>> hs;
  for (int u = 0; u < 4; ++u) {
    hs.push_back(rt.spawn([&, u] {
      long errors = 0;
      std::vector<std::unique_ptr<std::string>> keep;
      unsigned rng = 12345u + static_cast<unsigned>(u);
      while (!stop.load(std::memory_order_relaxed)) {
        rng = rng * 1103515245u + 12345u;
        const std::size_t n = 1 + rng % 3000;
        char* p = static_cast<char*>(std::malloc(n));
        std::memset(p, u, n);
        if (p[n - 1] != static_cast<char>(u)) ++errors;
        std::free(p);
        auto* v = new std::vector<int>(rng % 200, u);
        if (!v->empty() && (*v)[v->size() - 1] != u) ++errors;
        delete v;
        std::string s(rng % 100, static_cast<char>('a' + u));
        s += std::to_string(rng);
        keep.push_back(std::make_unique<std::string>(std::move(s)));
        if (keep.size() > 64) keep.erase(keep.begin(), keep.begin() + 32);
      }
      for (auto& k : keep)
        if ((*k)[0] != static_cast<char>('a' + u) && !std::isdigit(static_cast<unsigned char>((*k)[0]))) ++errors;
      return errors;
    }));
  }
  std::this_thread::sleep_for(std::chrono::seconds(stress_seconds()));
  stop = true;
  for (auto& h : hs) EXPECT_EQ(h.join(), 0);
  auto st = quanta::preemption_stats(rt);
  std::printf("preemptions: sent %llu, taken %llu, deferred %llu\n",
              static_cast<unsigned long long>(st.total.sent),
              static_cast<unsigned long long>(st.total.taken),
              static_cast<unsigned long long>(st.total.deferred));
  EXPECT_GT(st.total.taken, 0u);
}

}  // namespace
