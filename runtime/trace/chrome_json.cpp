// quanta — the Chrome trace-event JSON writer (see chrome_json.hpp).
//
// The file, in this order (Perfetto's importer reads `displayTimeUnit` and
// `otherData` wherever they are, but stops at a top-level key it does not
// know, so nothing else goes at the top level):
//
//   {"traceEvents":[
//     metadata: process_name, then per worker thread_name "worker N (cpu C)"
//               and thread_sort_index N (tid = N + 1),
//     per worker, sorted by time: B/E pairs named after the ULT, instants
//   ],
//   "displayTimeUnit":"ns",
//   "otherData":{...run info, recorded and dropped event counts...}}
//
// Timestamps are microseconds since the runtime started with three decimals
// (nanoseconds), as the format defines them; `displayTimeUnit` only asks the
// viewer to show nanoseconds.
#include "trace/chrome_json.hpp"

#include <algorithm>
#include <cinttypes>
#include <string>
#include <unordered_map>

namespace quanta::detail {
namespace {

const char* reason_name(std::uint32_t r) noexcept {
  switch (static_cast<TraceReason>(r)) {
    case TraceReason::Yield:
      return "yield";
    case TraceReason::Preempt:
      return "preempt";
    case TraceReason::Park:
      return "park";
    case TraceReason::Exit:
      return "exit";
  }
  return "unknown";
}

// A JSON string body: quotes and backslashes escaped, control characters
// replaced (Perfetto's tokenizer rejects some escapes, so none are needed).
std::string escaped(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

class TrackWriter {
 public:
  TrackWriter(std::FILE* out, const TraceRunInfo& run, unsigned tid,
              const std::unordered_map<std::uint64_t, std::string>& names)
      : out_(out), run_(run), tid_(tid), names_(names) {}

  void write(const std::vector<TraceEvent>& events) {
    for (const TraceEvent& e : events) {
      const std::uint64_t t = ns_of(e.ticks);
      switch (e.kind) {
        case TraceKind::RunBegin:
          if (open_) end_slice(t, "unknown");  // not expected: every begin follows an end
          begin_slice(t, e.ult);
          break;
        case TraceKind::RunEnd:
          // An end without its begin: the begin was overwritten (the ring
          // wrapped). Leave it out so that every B keeps its E.
          if (!open_ || open_id_ != e.ult) break;
          end_slice(t, reason_name(e.aux));
          if (static_cast<TraceReason>(e.aux) == TraceReason::Preempt)
            instant(t, "preempt", "\"id\":" + std::to_string(e.ult));
          break;
        case TraceKind::Spawn:
          instant(t, "spawn",
                  "\"by\":\"" + who(e.ult) + "\",\"child\":" + std::to_string(e.arg));
          break;
        case TraceKind::Wake:
          instant(t, "wake", "\"id\":" + std::to_string(e.arg) + ",\"by\":\"" + who(e.ult) + "\"");
          break;
        case TraceKind::TimerWake:
          instant(t, "wake", "\"id\":" + std::to_string(e.arg) + ",\"by\":\"timer\"");
          break;
        case TraceKind::Steal:
          instant(t, "steal", "\"from\":" + std::to_string(e.arg) + ",\"to\":" +
                                  std::to_string(tid_ - 1) + ",\"count\":" + std::to_string(e.aux));
          break;
        case TraceKind::Give:
          instant(t, "steal", "\"from\":" + std::to_string(tid_ - 1) + ",\"to\":" +
                                  std::to_string(e.arg) + ",\"count\":" + std::to_string(e.aux));
          break;
      }
    }
    // Not expected either: ~Runtime lets every ULT finish before the
    // workers stop. Closed at the track's last timestamp.
    if (open_) end_slice(last_, "shutdown");
  }

 private:
  std::uint64_t ns_of(std::uint64_t ticks) const noexcept {
    if (ticks <= run_.start_ticks) return 0;
    return static_cast<std::uint64_t>(static_cast<double>(ticks - run_.start_ticks) /
                                      run_.ticks_per_ns);
  }

  // The timestamp of the next event written: t, or 1 ns after the previous
  // event of the track, so that no two events of a track share a timestamp
  // (viewers need not guess the order of an E and the next B).
  std::uint64_t stamp(std::uint64_t t) noexcept {
    if (any_ && t <= last_) t = last_ + 1;
    any_ = true;
    last_ = t;
    return t;
  }

  std::string slice_name(std::uint64_t id) const {
    const auto it = names_.find(id);
    return it != names_.end() ? escaped(it->second) : "ult " + std::to_string(id);
  }

  static std::string who(std::uint64_t id) {
    return id == 0 ? "worker" : "ult " + std::to_string(id);
  }

  void head(const char* ph, std::uint64_t t) {
    std::fprintf(out_, ",\n{\"ph\":\"%s\",\"pid\":%ld,\"tid\":%u,\"ts\":%" PRIu64 ".%03u", ph,
                 run_.pid, tid_, t / 1000, static_cast<unsigned>(t % 1000));
  }

  void begin_slice(std::uint64_t t, std::uint64_t id) {
    head("B", stamp(t));
    std::fprintf(out_, ",\"name\":\"%s\",\"cat\":\"ult\",\"args\":{\"id\":%" PRIu64 "}}",
                 slice_name(id).c_str(), id);
    open_ = true;
    open_id_ = id;
  }

  void end_slice(std::uint64_t t, const char* reason) {
    head("E", stamp(t));
    std::fprintf(out_,
                 ",\"name\":\"%s\",\"cat\":\"ult\",\"args\":{\"id\":%" PRIu64
                 ",\"reason\":\"%s\"}}",
                 slice_name(open_id_).c_str(), open_id_, reason);
    open_ = false;
  }

  void instant(std::uint64_t t, const char* name, const std::string& args) {
    head("i", stamp(t));
    std::fprintf(out_, ",\"s\":\"t\",\"name\":\"%s\",\"cat\":\"sched\",\"args\":{%s}}", name,
                 args.c_str());
  }

  std::FILE* out_;
  const TraceRunInfo& run_;
  unsigned tid_;
  const std::unordered_map<std::uint64_t, std::string>& names_;
  bool any_ = false;
  std::uint64_t last_ = 0;
  bool open_ = false;
  std::uint64_t open_id_ = 0;
};

}  // namespace

bool write_chrome_trace(std::FILE* out, const TraceRunInfo& run,
                        const std::vector<TraceTrack>& tracks) {
  std::unordered_map<std::uint64_t, std::string> names;
  for (const TraceTrack& tr : tracks)
    for (auto& [id, name] : tr.buffer->names()) names.emplace(id, std::move(name));

  std::fprintf(out,
               "{\"traceEvents\":[\n{\"ph\":\"M\",\"pid\":%ld,\"tid\":0,\"name\":\"process_name\","
               "\"args\":{\"name\":\"quanta runtime (pid %ld)\"}}",
               run.pid, run.pid);
  for (const TraceTrack& tr : tracks) {
    const unsigned tid = tr.worker + 1;
    std::string name = "worker " + std::to_string(tr.worker);
    if (tr.cpu >= 0) name += " (cpu " + std::to_string(tr.cpu) + ")";
    std::fprintf(out,
                 ",\n{\"ph\":\"M\",\"pid\":%ld,\"tid\":%u,\"name\":\"thread_name\","
                 "\"args\":{\"name\":\"%s\"}}"
                 ",\n{\"ph\":\"M\",\"pid\":%ld,\"tid\":%u,\"name\":\"thread_sort_index\","
                 "\"args\":{\"sort_index\":%u}}",
                 run.pid, tid, name.c_str(), run.pid, tid, tr.worker);
  }

  std::uint64_t recorded = 0, dropped = 0;
  std::string dropped_each;
  for (const TraceTrack& tr : tracks) {
    std::vector<TraceEvent> events = tr.buffer->events();
    // Recorded in order by one thread; sorted anyway, in case the counter
    // ever stepped back, keeping the recording order of equal ticks.
    std::stable_sort(events.begin(), events.end(),
                     [](const TraceEvent& a, const TraceEvent& b) { return a.ticks < b.ticks; });
    TrackWriter(out, run, tr.worker + 1, names).write(events);
    recorded += tr.buffer->recorded();
    dropped += tr.buffer->dropped();
    if (!dropped_each.empty()) dropped_each += ',';
    dropped_each += std::to_string(tr.buffer->dropped());
  }

  std::fprintf(out,
               "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"generator\":\"quanta\","
               "\"scheduler\":\"%s\",\"workers\":%zu,\"preempt\":%s,\"time_slice_us\":%lld,"
               "\"buffer_events\":%zu,\"recorded_events\":%" PRIu64 ",\"dropped_events\":%" PRIu64
               ",\"dropped_events_per_worker\":[%s],\"ticks_per_ns\":%.6f}}\n",
               run.scheduler, tracks.size(), run.preempt ? "true" : "false", run.time_slice_us,
               run.buffer_events, recorded, dropped, dropped_each.c_str(), run.ticks_per_ns);
  return std::fflush(out) == 0 && !std::ferror(out);
}

}  // namespace quanta::detail
