// quanta — the exceptions the runtime throws. Every message names the bad value
// and what was expected.
#pragma once
#include <stdexcept>
#include <string>

namespace quanta {

// A configuration or option value out of its accepted range (Config fields,
// QUANTA_* environment variables, ThreadBuilder options).
class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The API was used in a way it does not allow: joining an empty JoinHandle,
// a ULT joining itself, spawning without a Runtime from outside any ULT.
// (Destroying a Runtime from one of its own ULTs cannot throw from a
// destructor: it is reported on stderr and aborts.)
class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// The system refused a resource the runtime needs (stack memory, memory
// mappings, kernel threads). The message says which limit was hit.
class ResourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace quanta
