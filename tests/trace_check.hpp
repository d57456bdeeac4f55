// quanta tests — reading a trace file (Config::trace_file) and checking the
// properties every trace must have, whatever the run: valid JSON in the
// Chrome trace-event layout, one named track per worker, per track strictly
// increasing timestamps and run slices that never nest, every B closed by
// an E of the same ULT with an allowed reason. Returns what it counted, for
// the test to compare with the runtime's counters.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "json_parse.hpp"

namespace quanta::test {

struct TraceSummary {
  bool parsed = false;
  std::map<int, std::string> threads;                 // tid -> thread_name
  std::map<std::string, std::uint64_t> reasons;       // E reason -> count
  std::map<std::string, std::uint64_t> instants;      // instant name -> count
  std::map<std::uint64_t, std::set<std::string>> slice_names;  // ULT id -> B names
  std::uint64_t slices = 0;
  std::uint64_t steal_count = 0;  // sum of the steal instants' counts
  double dropped_events = -1;
  double recorded_events = -1;
  double buffer_events = -1;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline TraceSummary check_trace_text(const std::string& text) {
  using json::Value;
  TraceSummary out;
  Value doc;
  try {
    doc = json::parse(text);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the trace is not valid JSON: " << e.what();
    return out;
  }
  out.parsed = true;
  EXPECT_TRUE(doc.is(Value::Type::Object));
  const Value* unit = doc.find("displayTimeUnit");
  EXPECT_TRUE(unit && unit->string == "ns");
  if (const Value* other = doc.find("otherData")) {
    if (const Value* d = other->find("dropped_events")) out.dropped_events = d->number;
    if (const Value* r = other->find("recorded_events")) out.recorded_events = r->number;
    if (const Value* b = other->find("buffer_events")) out.buffer_events = b->number;
  } else {
    ADD_FAILURE() << "no otherData";
  }
  const Value* events = doc.find("traceEvents");
  if (!events || !events->is(Value::Type::Array)) {
    ADD_FAILURE() << "no traceEvents array";
    return out;
  }

  struct Track {
    double last_ts = -1;
    bool open = false;
    std::uint64_t open_id = 0;
    std::string open_name;
  };
  std::map<int, Track> tracks;
  const std::set<std::string> allowed_reasons{"yield", "preempt", "park", "exit"};
  const std::set<std::string> allowed_instants{"spawn", "wake", "steal", "preempt"};
  for (const Value& e : events->items) {
    const std::string& ph = e.at("ph").string;
    const int tid = static_cast<int>(e.at("tid").number);
    EXPECT_TRUE(e.at("pid").is(Value::Type::Number));
    if (ph == "M") {
      if (e.at("name").string == "thread_name") out.threads[tid] = e.at("args").at("name").string;
      continue;
    }
    const double ts = e.at("ts").number;
    Track& t = tracks[tid];
    EXPECT_GT(ts, t.last_ts) << "track " << tid << ": timestamps must increase";
    t.last_ts = ts;
    const Value& args = e.at("args");
    if (ph == "B") {
      EXPECT_FALSE(t.open) << "track " << tid << ": slice of ULT " << args.at("id").number
                           << " begins inside the slice of ULT " << t.open_id;
      t.open = true;
      t.open_id = static_cast<std::uint64_t>(args.at("id").number);
      t.open_name = e.at("name").string;
      out.slice_names[t.open_id].insert(t.open_name);
      ++out.slices;
    } else if (ph == "E") {
      const auto id = static_cast<std::uint64_t>(args.at("id").number);
      EXPECT_TRUE(t.open) << "track " << tid << ": E of ULT " << id << " without its B";
      EXPECT_EQ(id, t.open_id) << "track " << tid << ": E closes another ULT's slice";
      EXPECT_EQ(e.at("name").string, t.open_name);
      const std::string& reason = args.at("reason").string;
      EXPECT_TRUE(allowed_reasons.count(reason)) << "reason \"" << reason << "\"";
      ++out.reasons[reason];
      t.open = false;
    } else if (ph == "i") {
      EXPECT_EQ(e.at("s").string, "t");
      const std::string& name = e.at("name").string;
      EXPECT_TRUE(allowed_instants.count(name)) << "instant \"" << name << "\"";
      ++out.instants[name];
      if (name == "steal") out.steal_count += static_cast<std::uint64_t>(args.at("count").number);
    } else {
      ADD_FAILURE() << "unexpected phase \"" << ph << "\"";
    }
  }
  for (const auto& [tid, t] : tracks) {
    EXPECT_FALSE(t.open) << "track " << tid << ": the slice of ULT " << t.open_id
                         << " has no E";
    EXPECT_TRUE(out.threads.count(tid)) << "track " << tid << " has no thread_name";
  }
  for (const auto& [tid, name] : out.threads)
    EXPECT_EQ(name.rfind("worker " + std::to_string(tid - 1), 0), 0u) << name;
  return out;
}

inline TraceSummary check_trace_file(const std::string& path) {
  const std::string text = read_file(path);
  if (text.empty()) {
    ADD_FAILURE() << "the trace file " << path << " is empty or missing";
    return {};
  }
  return check_trace_text(text);
}

}  // namespace quanta::test
