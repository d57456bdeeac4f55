// quanta — preemptive user-space threading runtime. The umbrella header.
#pragma once
#include "quanta/config.hpp"
#include "quanta/error.hpp"
#include "quanta/health.hpp"
#include "quanta/metrics.hpp"
#include "quanta/pool.hpp"
#include "quanta/preempt.hpp"
#include "quanta/runtime.hpp"
#include "quanta/sync.hpp"
#include "quanta/thread.hpp"
#include "quanta/topology.hpp"
#include "quanta/tune.hpp"
#include "quanta/ult_local.hpp"
