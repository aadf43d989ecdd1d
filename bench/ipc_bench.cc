// ipc_bench.cc: pcopy-ipc-bench, pipe vs Boost.Interprocess message_queue vs shared-memory
// counters, for the two jobs pcopy gives them (Google Benchmark):
//   Progress/*: a worker reports progress. The benchmark thread plays the worker and sends one
//               update per iteration while a forked parent-side process drains them: the cost a
//               worker pays per update.
//   RoundTrip/*: one message there and one back between two processes: the latency.
//   Handout/*:  a worker takes its next task. The benchmark thread plays the worker; a forked
//               process keeps tasks coming (pipe, queue) or competes for the same cursor (shm).
// Each benchmark forks its peer once, outside the timed loop, and kills and reaps it after.
#include <benchmark/benchmark.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/interprocess/anonymous_shared_memory.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <cstdint>
#include <memory>
#include <string>

namespace bip = boost::interprocess;

namespace {

struct Message {  // the size of a progress update or a task: offset, length, worker, sequence
  uint64_t offset;
  uint64_t length;
  uint64_t worker;
  uint64_t sequence;
};

// A forked peer that runs body until killed; the destructor kills and reaps it.
class Peer {
 public:
  template <typename Body>
  explicit Peer(Body body) {
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      body();
      _exit(0);
    }
  }
  ~Peer() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_;
};

class Pipe {
 public:
  Pipe() {
    if (pipe(fds_) != 0) abort();
  }
  ~Pipe() {
    close(fds_[0]);
    close(fds_[1]);
  }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }

 private:
  int fds_[2];
};

bool ReadMessage(int fd, Message* m) { return read(fd, m, sizeof *m) == sizeof *m; }
bool WriteMessage(int fd, const Message& m) { return write(fd, &m, sizeof m) == sizeof m; }

// A queue whose name is unlinked once mapped; forked peers inherit the mapping.
std::unique_ptr<bip::message_queue> MakeQueue(size_t capacity) {
  const std::string name = "pcopy-ipc-bench-" + std::to_string(getpid());
  bip::message_queue::remove(name.c_str());
  auto q = std::make_unique<bip::message_queue>(bip::create_only, name.c_str(), capacity,
                                                sizeof(Message), bip::permissions(0600));
  bip::message_queue::remove(name.c_str());
  return q;
}

struct alignas(64) SharedCounter {
  std::atomic<uint64_t> value{0};
};

SharedCounter* MapCounters(bip::mapped_region* region, size_t n) {
  *region = bip::anonymous_shared_memory(sizeof(SharedCounter) * n);
  auto* c = static_cast<SharedCounter*>(region->get_address());
  for (size_t i = 0; i < n; ++i) new (&c[i]) SharedCounter();
  return c;
}

// ---- Progress: the worker's cost of one update --------------------------------------------

void Progress_Pipe(benchmark::State& state) {
  Pipe p;
  Peer drain([&] {
    Message m;
    while (ReadMessage(p.read_end(), &m)) {
    }
  });
  Message m{0, 1 << 20, 0, 0};
  for (auto _ : state) {
    ++m.sequence;
    if (!WriteMessage(p.write_end(), m)) state.SkipWithError("write");
  }
  state.SetItemsProcessed(state.iterations());
}

void Progress_MessageQueue(benchmark::State& state) {
  auto q = MakeQueue(256);
  Peer drain([&] {
    Message m;
    bip::message_queue::size_type got;
    unsigned prio;
    for (;;) q->receive(&m, sizeof m, got, prio);
  });
  Message m{0, 1 << 20, 0, 0};
  for (auto _ : state) {
    ++m.sequence;
    q->send(&m, sizeof m, 0);
  }
  state.SetItemsProcessed(state.iterations());
}

void Progress_SharedCounter(benchmark::State& state) {
  bip::mapped_region region;
  SharedCounter* c = MapCounters(&region, 1);
  Peer reader([&] {
    uint64_t seen = 0;
    for (;;) benchmark::DoNotOptimize(seen = c->value.load(std::memory_order_relaxed));
  });
  for (auto _ : state) {
    c->value.store(c->value.load(std::memory_order_relaxed) + (1 << 20), std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- RoundTrip: latency between two processes ---------------------------------------------

void RoundTrip_Pipe(benchmark::State& state) {
  Pipe there, back;
  Peer echo([&] {
    Message m;
    while (ReadMessage(there.read_end(), &m) && WriteMessage(back.write_end(), m)) {
    }
  });
  Message m{};
  for (auto _ : state) {
    ++m.sequence;
    if (!WriteMessage(there.write_end(), m) || !ReadMessage(back.read_end(), &m)) {
      state.SkipWithError("pipe");
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void RoundTrip_MessageQueue(benchmark::State& state) {
  auto there = MakeQueue(1);
  auto back = std::make_unique<bip::message_queue>(
      bip::create_only, ("pcopy-ipc-bench-back-" + std::to_string(getpid())).c_str(), 1,
      sizeof(Message), bip::permissions(0600));
  bip::message_queue::remove(("pcopy-ipc-bench-back-" + std::to_string(getpid())).c_str());
  Peer echo([&] {
    Message m;
    bip::message_queue::size_type got;
    unsigned prio;
    for (;;) {
      there->receive(&m, sizeof m, got, prio);
      back->send(&m, sizeof m, 0);
    }
  });
  Message m{};
  bip::message_queue::size_type got;
  unsigned prio;
  for (auto _ : state) {
    ++m.sequence;
    there->send(&m, sizeof m, 0);
    back->receive(&m, sizeof m, got, prio);
  }
  state.SetItemsProcessed(state.iterations());
}

void RoundTrip_SharedCounter(benchmark::State& state) {
  bip::mapped_region region;
  SharedCounter* c = MapCounters(&region, 2);  // [0] there, [1] back
  Peer echo([&] {
    uint64_t last = 0;
    for (;;) {
      const uint64_t v = c[0].value.load(std::memory_order_acquire);
      if (v != last) {
        last = v;
        c[1].value.store(v, std::memory_order_release);
      } else {
        sched_yield();  // on 2 cores a pure spin can starve the other side
      }
    }
  });
  uint64_t seq = 0;
  for (auto _ : state) {
    c[0].value.store(++seq, std::memory_order_release);
    while (c[1].value.load(std::memory_order_acquire) != seq) sched_yield();
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- Handout: a worker takes its next task ------------------------------------------------

void Handout_Pipe(benchmark::State& state) {
  Pipe p;
  Peer feeder([&] {
    Message m{};
    while (WriteMessage(p.write_end(), m)) ++m.sequence;
  });
  Message m;
  for (auto _ : state) {
    if (!ReadMessage(p.read_end(), &m)) state.SkipWithError("read");
  }
  state.SetItemsProcessed(state.iterations());
}

void Handout_MessageQueue(benchmark::State& state) {
  auto q = MakeQueue(256);
  Peer feeder([&] {
    Message m{};
    for (;;) {
      q->send(&m, sizeof m, 0);
      ++m.sequence;
    }
  });
  Message m;
  bip::message_queue::size_type got;
  unsigned prio;
  for (auto _ : state) q->receive(&m, sizeof m, got, prio);
  state.SetItemsProcessed(state.iterations());
}

void Handout_SharedCursor(benchmark::State& state) {
  bip::mapped_region region;
  SharedCounter* cursor = MapCounters(&region, 1);
  Peer rival([&] {  // a second worker taking chunks from the same cursor
    for (;;) cursor->value.fetch_add(1, std::memory_order_relaxed);
  });
  for (auto _ : state) {
    benchmark::DoNotOptimize(cursor->value.fetch_add(1, std::memory_order_relaxed));
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(Progress_Pipe);
BENCHMARK(Progress_MessageQueue);
BENCHMARK(Progress_SharedCounter);
BENCHMARK(RoundTrip_Pipe);
BENCHMARK(RoundTrip_MessageQueue);
BENCHMARK(RoundTrip_SharedCounter);
BENCHMARK(Handout_Pipe);
BENCHMARK(Handout_MessageQueue);
BENCHMARK(Handout_SharedCursor);

BENCHMARK_MAIN();
