// One environment variable set for a scope, for tests of Config::from_env()
// and everything it feeds: the old value (or its absence) comes back when
// the scope ends, also when an assertion leaves the test early.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace quanta::test {

class EnvVar {
 public:
  EnvVar(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~EnvVar() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace quanta::test
