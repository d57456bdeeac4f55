// Uses only the installed public headers.
#include <quanta/quanta.hpp>

#include <cstdio>

int main() {
  quanta::Runtime rt(quanta::Config{});
  int v = rt.spawn([] { return quanta::ThreadBuilder().spawn([] { return 21; }).join() * 2; }).join();
  std::printf("consumer: %d\n", v);
  return v == 42 ? 0 : 1;
}
