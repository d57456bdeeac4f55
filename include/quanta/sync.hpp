// quanta — synchronisation primitives that park ULTs instead of blocking
// workers, and block kernel threads on futexes: Mutex, CondVar, RwLock,
// Semaphore, WaitGroup, Latch, Barrier; Channel<T> and Select; and Rcu,
// LockFreeQueue and LockFreeStack, which never wait.
#pragma once
#include "quanta/barrier.hpp"
#include "quanta/channel.hpp"
#include "quanta/condvar.hpp"
#include "quanta/latch.hpp"
#include "quanta/lock_free_queue.hpp"
#include "quanta/lock_free_stack.hpp"
#include "quanta/mutex.hpp"
#include "quanta/rcu.hpp"
#include "quanta/rwlock.hpp"
#include "quanta/semaphore.hpp"
#include "quanta/wait_group.hpp"
