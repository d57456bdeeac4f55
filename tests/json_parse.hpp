// quanta tests — a small JSON parser (RFC 8259) for checking the files the
// runtime writes (the trace). Strict: anything that is not JSON is an error
// naming the byte offset. Not fast, not for large inputs.
#pragma once
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace quanta::test::json {

struct Value {
  enum class Type { Null, Bool, Number, String, Array, Object };
  Type type = Type::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> items;        // Array elements, or Object values
  std::vector<std::string> keys;   // Object keys, parallel to items

  bool is(Type t) const { return type == t; }
  // The member `key` of an object, or nullptr.
  const Value* find(std::string_view key) const {
    if (type != Type::Object) return nullptr;
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return &items[i];
    return nullptr;
  }
  // The member `key`; throws when absent.
  const Value& at(std::string_view key) const {
    const Value* v = find(key);
    if (!v) throw std::runtime_error("json: no member \"" + std::string(key) + "\"");
    return *v;
  }
};

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  // The document: one value, then only whitespace.
  Value document() {
    Value v = value(0);
    space();
    if (i_ != s_.size()) fail("text after the value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("json: " + what + " at byte " + std::to_string(i_));
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  void word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) fail("expected " + std::string(w));
    i_ += w.size();
  }

  Value value(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    space();
    Value v;
    switch (peek()) {
      case '{':
        v.type = Value::Type::Object;
        ++i_;
        space();
        if (peek() == '}') {
          ++i_;
          return v;
        }
        for (;;) {
          space();
          v.keys.push_back(string());
          space();
          expect(':');
          v.items.push_back(value(depth + 1));
          space();
          if (peek() == ',') {
            ++i_;
            continue;
          }
          expect('}');
          return v;
        }
      case '[':
        v.type = Value::Type::Array;
        ++i_;
        space();
        if (peek() == ']') {
          ++i_;
          return v;
        }
        for (;;) {
          v.items.push_back(value(depth + 1));
          space();
          if (peek() == ',') {
            ++i_;
            continue;
          }
          expect(']');
          return v;
        }
      case '"':
        v.type = Value::Type::String;
        v.string = string();
        return v;
      case 't':
        word("true");
        v.type = Value::Type::Bool;
        v.boolean = true;
        return v;
      case 'f':
        word("false");
        v.type = Value::Type::Bool;
        return v;
      case 'n':
        word("null");
        return v;
      default:
        v.type = Value::Type::Number;
        v.number = number();
        return v;
    }
  }

  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated escape");
      switch (const char e = s_[i_++]) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (i_ + 4 > s_.size()) fail("short \\u escape");
          unsigned cp = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = s_[i_++];
            if (!std::isxdigit(static_cast<unsigned char>(h))) fail("bad \\u escape");
            cp = cp * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h))
                                                     ? h - '0'
                                                     : (std::tolower(h) - 'a' + 10));
          }
          // Enough for the checks here: code points below 0x80 as bytes,
          // others as '?'.
          out += cp < 0x80 ? static_cast<char>(cp) : '?';
          break;
        }
        default:
          fail("bad escape");
      }
    }
  }

  double number() {
    const std::size_t start = i_;
    if (peek() == '-') ++i_;
    if (peek() == '0') {
      ++i_;
    } else if (std::isdigit(static_cast<unsigned char>(peek()))) {
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++i_;
    } else {
      fail("expected a value");
    }
    if (peek() == '.') {
      ++i_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a digit");
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a digit");
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++i_;
    }
    return std::strtod(std::string(s_.substr(start, i_ - start)).c_str(), nullptr);
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

// Parses a whole document; throws std::runtime_error naming the offset of
// the first error.
inline Value parse(std::string_view text) { return Parser(text).document(); }

}  // namespace quanta::test::json
