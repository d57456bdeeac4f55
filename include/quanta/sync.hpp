// quanta — synchronisation primitives that park ULTs instead of blocking
// workers, and block kernel threads on futexes.
#pragma once
#include "quanta/condvar.hpp"
#include "quanta/mutex.hpp"
