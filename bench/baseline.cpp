// A small JSON reader (enough for the files write_json produces: objects,
// arrays, strings with the escapes it writes, numbers, true/false/null) and
// the comparison of ratios against a baseline.
#include "baseline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace qbench {
namespace {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Json> items;                          // Array
  std::vector<std::pair<std::string, Json>> members;  // Object, in file order

  const Json* get(std::string_view key) const {
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
};

class Parser {
 public:
  Parser(std::string_view text, const std::string& path) : t_(text), path_(path) {}

  Json document() {
    Json v = value();
    ws();
    if (i_ != t_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("cannot read baseline " + path_ + ": " + what + " at byte " +
                             std::to_string(i_));
  }
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t'))
      ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ < t_.size() && t_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  bool word(std::string_view w) {
    if (t_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  Json value() {
    ws();
    if (i_ >= t_.size()) fail("unexpected end of file");
    Json v;
    const char c = t_[i_];
    if (c == '{') {
      ++i_;
      v.kind = Json::Object;
      if (eat('}')) return v;
      do {
        ws();
        if (i_ >= t_.size() || t_[i_] != '"') fail("expected a member name");
        std::string key = string();
        expect(':');
        v.members.emplace_back(std::move(key), value());
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      ++i_;
      v.kind = Json::Array;
      if (eat(']')) return v;
      do v.items.push_back(value());
      while (eat(','));
      expect(']');
    } else if (c == '"') {
      v.kind = Json::String;
      v.s = string();
    } else if (word("true")) {
      v.kind = Json::Bool;
      v.b = true;
    } else if (word("false")) {
      v.kind = Json::Bool;
    } else if (word("null")) {
      v.kind = Json::Null;
    } else {
      const std::string rest(t_.substr(i_, std::min<std::size_t>(64, t_.size() - i_)));
      char* end = nullptr;
      v.n = std::strtod(rest.c_str(), &end);
      if (end == rest.c_str()) fail("expected a value");
      v.kind = Json::Number;
      i_ += static_cast<std::size_t>(end - rest.c_str());
    }
    return v;
  }

  std::string string() {
    ++i_;  // the opening quote
    std::string r;
    while (true) {
      if (i_ >= t_.size()) fail("unterminated string");
      const char c = t_[i_++];
      if (c == '"') return r;
      if (c != '\\') {
        r += c;
        continue;
      }
      if (i_ >= t_.size()) fail("unterminated string");
      const char e = t_[i_++];
      switch (e) {
        case '"': r += '"'; break;
        case '\\': r += '\\'; break;
        case '/': r += '/'; break;
        case 'n': r += '\n'; break;
        case 't': r += '\t'; break;
        case 'r': r += '\r'; break;
        case 'b': r += '\b'; break;
        case 'f': r += '\f'; break;
        case 'u': {
          if (i_ + 4 > t_.size()) fail("bad \\u escape");
          const unsigned long cp = std::strtoul(std::string(t_.substr(i_, 4)).c_str(), nullptr, 16);
          i_ += 4;
          // write_json only escapes control characters; others as UTF-8.
          if (cp < 0x80) {
            r += static_cast<char>(cp);
          } else if (cp < 0x800) {
            r += static_cast<char>(0xC0 | (cp >> 6));
            r += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            r += static_cast<char>(0xE0 | (cp >> 12));
            r += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            r += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default: fail(std::string("bad escape \\") + e);
      }
    }
  }

  std::string_view t_;
  std::string path_;
  std::size_t i_ = 0;
};

std::string key_of(const std::string& benchmark, const std::string& peer) {
  return benchmark + " / " + peer;
}

std::string text_of(const Json* v) {
  return v && v->kind == Json::String ? v->s : std::string();
}

// The rows of one "rows" array; `prefix` goes before each key.
void rows_from(const Json* rows, const std::string& prefix, const std::string& path,
               std::vector<RatioRow>& out) {
  if (!rows) return;
  if (rows->kind != Json::Array)
    throw std::runtime_error("cannot read baseline " + path + ": \"rows\" is not an array");
  for (const Json& r : rows->items) {
    const Json* peer = r.get("peer");
    const Json* ratio = r.get("ratio");
    if (r.kind != Json::Object || !r.get("benchmark") || !peer || !ratio)
      throw std::runtime_error("cannot read baseline " + path +
                               ": a row lacks \"benchmark\", \"peer\" or \"ratio\"");
    RatioRow row;
    row.key = prefix + key_of(text_of(r.get("benchmark")), text_of(peer->get("impl")));
    if (ratio->kind == Json::Number && std::isfinite(ratio->n) && ratio->n > 0)
      row.ratio = ratio->n;
    out.push_back(std::move(row));
  }
}

std::string fixed(double v, const char* f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Three decimals, as the tables show ratios; tiny ones in %g form.
std::string ratio_text(double v) { return fixed(v, v >= 0.001 ? "%8.3f" : "%8.3g"); }

}  // namespace

Baseline read_baseline(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open baseline " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const Json doc = Parser(text, path).document();
  if (doc.kind != Json::Object || !doc.get("rows"))
    throw std::runtime_error("cannot read baseline " + path +
                             ": not a quanta-bench JSON file (no \"rows\")");
  Baseline b;
  b.path = path;
  if (const Json* q = doc.get("quick")) b.quick = q->kind == Json::Bool && q->b;
  rows_from(doc.get("rows"), "", path, b.rows);
  if (const Json* w = doc.get("workloads")) rows_from(w->get("rows"), "workloads: ", path, b.rows);
  return b;
}

std::vector<RatioRow> ratio_rows(const Run& run) {
  std::vector<RatioRow> out;
  for (const Row& r : run.rows) {
    RatioRow row{key_of(r.benchmark, r.peer.impl), std::nullopt};
    const double v = r.ratio();
    if (std::isfinite(v) && v > 0) row.ratio = v;
    out.push_back(std::move(row));
  }
  for (const WorkloadRow& r : run.workloads.rows) {
    RatioRow row{"workloads: " + key_of(r.benchmark, r.peer.impl), std::nullopt};
    if (const auto v = r.ratio(); v && std::isfinite(*v) && *v > 0) row.ratio = *v;
    out.push_back(std::move(row));
  }
  return out;
}

int compare_with_baseline(std::ostream& out, const Baseline& base, const Run& run,
                          double tolerance_pct) {
  const std::vector<RatioRow> now = ratio_rows(run);
  const auto find = [](const std::vector<RatioRow>& v, const std::string& key) -> const RatioRow* {
    for (const RatioRow& r : v)
      if (r.key == key) return &r;
    return nullptr;
  };
  std::size_t width = 3;
  for (const RatioRow& r : now) width = std::max(width, r.key.size());

  out << "\nbaseline " << base.path << ": ratio = quanta / peer (lower is better), flagged when "
      << "more than " << fixed(tolerance_pct, "%g") << " % worse\n";
  if (base.quick != run.quick)
    out << "note: the baseline is " << (base.quick ? "a --quick run" : "a full run")
        << " and this is " << (run.quick ? "a --quick run" : "a full run")
        << "; their ratios are less comparable\n";
  out << "  " << std::string(width, ' ').replace(0, 3, "row") << "  baseline       now   change\n";
  int flagged = 0;
  std::vector<std::string> not_compared;
  for (const RatioRow& r : now) {
    const RatioRow* b = find(base.rows, r.key);
    if (!b) {
      not_compared.push_back(r.key + ": not in the baseline");
      continue;
    }
    if (!b->ratio || !r.ratio) {
      not_compared.push_back(r.key + ": no ratio " + (r.ratio ? "in the baseline" : "now"));
      continue;
    }
    const double change = (*r.ratio / *b->ratio - 1) * 100;
    const bool worse = *r.ratio > *b->ratio * (1 + tolerance_pct / 100);
    flagged += worse;
    std::string key = r.key;
    key.resize(width, ' ');
    out << "  " << key << "  " << ratio_text(*b->ratio) << "  " << ratio_text(*r.ratio)
        << "  " << fixed(change, "%+6.1f") << " %" << (worse ? "  WORSE" : "") << "\n";
  }
  for (const RatioRow& b : base.rows)
    if (!find(now, b.key)) not_compared.push_back(b.key + ": not measured in this run");
  if (!not_compared.empty()) {
    out << "not compared (not a failure):\n";
    for (const std::string& s : not_compared) out << "  " << s << "\n";
  }
  out << (flagged ? std::to_string(flagged) + " row(s) more than " +
                        fixed(tolerance_pct, "%g") + " % worse than the baseline\n"
                  : "no row is more than " + fixed(tolerance_pct, "%g") +
                        " % worse than the baseline\n");
  return flagged;
}

}  // namespace qbench
