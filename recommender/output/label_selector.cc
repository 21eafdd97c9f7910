#include "recommender/output/label_selector.h"

#include <algorithm>
#include <string>

namespace recommender::output {
namespace {

enum class Tok { kIdent, kComma, kOpen, kClose, kEq, kDoubleEq, kNotEq, kNot, kUnsupported, kEnd };

struct Token {
  Tok kind;
  std::string_view text;
  size_t pos;  // 1-based character position, for messages
};

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecial(char c) { return c == ',' || c == '(' || c == ')' || c == '=' || c == '!'; }

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    if (i == s.size()) break;
    const size_t start = i;
    const auto add = [&](Tok kind, size_t length) {
      tokens.push_back({kind, s.substr(start, length), start + 1});
      i = start + length;
    };
    const bool next_eq = i + 1 < s.size() && s[i + 1] == '=';
    switch (s[i]) {
      case ',':
        add(Tok::kComma, 1);
        break;
      case '(':
        add(Tok::kOpen, 1);
        break;
      case ')':
        add(Tok::kClose, 1);
        break;
      case '=':
        next_eq ? add(Tok::kDoubleEq, 2) : add(Tok::kEq, 1);
        break;
      case '!':
        next_eq ? add(Tok::kNotEq, 2) : add(Tok::kNot, 1);
        break;
      case '<':
      case '>':  // Kubernetes' gt / lt: never produced from a metav1.LabelSelector
        add(Tok::kUnsupported, 1);
        break;
      default: {
        size_t end = i;
        while (end < s.size() && !IsBlank(s[end]) && !IsSpecial(s[end]) && s[end] != '<' &&
               s[end] != '>') {
          ++end;
        }
        add(Tok::kIdent, end - i);
      }
    }
  }
  tokens.push_back({Tok::kEnd, "", s.size() + 1});
  return tokens;
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Kubernetes' label name part and label value syntax: up to 63 of [A-Za-z0-9_.-], starting and
// ending alphanumeric.
bool IsLabelName(std::string_view s) {
  return !s.empty() && s.size() <= 63 && IsAlnum(s.front()) && IsAlnum(s.back()) &&
         std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A DNS-1123 subdomain: the optional prefix of a key.
bool IsDnsSubdomain(std::string_view s) {
  const auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return !s.empty() && s.size() <= 253 && lower_alnum(s.front()) && lower_alnum(s.back()) &&
         std::all_of(s.begin(), s.end(),
                     [&](char c) { return lower_alnum(c) || c == '-' || c == '.'; });
}

bool IsQualifiedName(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos) return IsLabelName(key);
  return IsDnsSubdomain(key.substr(0, slash)) && IsLabelName(key.substr(slash + 1));
}

bool IsLabelValue(std::string_view v) { return v.empty() || IsLabelName(v); }

class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : tokens_(Lex(text)) {}

  std::optional<LabelSelector> Parse(std::string* error) {
    LabelSelector selector;
    if (Peek().kind == Tok::kEnd) return selector;
    while (true) {
      std::optional<LabelRequirement> r = Requirement();
      if (!r) break;
      selector.push_back(std::move(*r));
      if (Peek().kind == Tok::kEnd) return selector;
      if (Peek().kind != Tok::kComma) {
        Fail("expected ',' or the end");
        break;
      }
      Next();
    }
    *error = error_;
    return std::nullopt;
  }

 private:
  const Token& Peek() const { return tokens_[at_]; }
  const Token& Next() {
    const Token& t = tokens_[at_];
    if (t.kind != Tok::kEnd) ++at_;
    return t;
  }

  void Fail(std::string_view what) {
    const Token& t = Peek();
    error_ = "at character " + std::to_string(t.pos) + ": " + std::string(what) +
             (t.kind == Tok::kEnd ? ", found the end" : ", found \"" + std::string(t.text) + "\"");
  }

  std::optional<std::string> Key() {
    if (Peek().kind != Tok::kIdent) {
      Fail("expected a label key");
      return std::nullopt;
    }
    if (!IsQualifiedName(Peek().text)) {
      Fail("invalid label key (want [prefix/]name, name up to 63 of A-Z a-z 0-9 - _ .)");
      return std::nullopt;
    }
    return std::string(Next().text);
  }

  // A value where one may stand: an identifier, or nothing (the empty value) before `,` `)` or
  // the end.
  std::optional<std::string> Value() {
    const Tok kind = Peek().kind;
    if (kind == Tok::kComma || kind == Tok::kClose || kind == Tok::kEnd) return std::string();
    if (kind != Tok::kIdent) {
      Fail("expected a label value");
      return std::nullopt;
    }
    if (!IsLabelValue(Peek().text)) {
      Fail("invalid label value (want up to 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)");
      return std::nullopt;
    }
    return std::string(Next().text);
  }

  bool ValueSet(std::vector<std::string>& values) {
    if (Peek().kind != Tok::kOpen) {
      Fail("expected '('");
      return false;
    }
    Next();
    if (Peek().kind == Tok::kClose) {
      Fail("the set of values must not be empty");
      return false;
    }
    while (true) {
      std::optional<std::string> v = Value();
      if (!v) return false;
      values.push_back(std::move(*v));
      if (Peek().kind == Tok::kClose) {
        Next();
        return true;
      }
      if (Peek().kind != Tok::kComma) {
        Fail("expected ',' or ')'");
        return false;
      }
      Next();
    }
  }

  std::optional<LabelRequirement> Requirement() {
    const bool negated = Peek().kind == Tok::kNot;
    if (negated) Next();
    std::optional<std::string> key = Key();
    if (!key) return std::nullopt;
    LabelRequirement r{.key = std::move(*key)};
    if (negated) {
      r.op = LabelRequirement::Op::kDoesNotExist;
      return r;
    }
    const Token& op = Peek();
    switch (op.kind) {
      case Tok::kEnd:
      case Tok::kComma:
        r.op = LabelRequirement::Op::kExists;
        return r;
      case Tok::kEq:
      case Tok::kDoubleEq:
      case Tok::kNotEq: {
        r.op = op.kind == Tok::kNotEq ? LabelRequirement::Op::kNotEquals
                                      : LabelRequirement::Op::kEquals;
        Next();
        std::optional<std::string> value = Value();
        if (!value) return std::nullopt;
        r.values.push_back(std::move(*value));
        return r;
      }
      case Tok::kIdent:
        if (op.text == "in" || op.text == "notin") {
          r.op = op.text == "in" ? LabelRequirement::Op::kIn : LabelRequirement::Op::kNotIn;
          Next();
          if (!ValueSet(r.values)) return std::nullopt;
          return r;
        }
        break;
      case Tok::kUnsupported:
        Fail("the operators < and > are not supported");
        return std::nullopt;
      default:
        break;
    }
    Fail("expected =, ==, !=, in, notin, ',' or the end after the key");
    return std::nullopt;
  }

  std::vector<Token> tokens_;
  size_t at_ = 0;
  std::string error_;
};

}  // namespace

std::optional<LabelSelector> ParseLabelSelector(std::string_view text, std::string* error) {
  return SelectorParser(text).Parse(error);
}

bool Matches(const LabelSelector& selector, const Labels& labels) {
  for (const LabelRequirement& r : selector) {
    const auto it = labels.find(r.key);
    const bool present = it != labels.end();
    const bool listed =
        present && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case LabelRequirement::Op::kEquals:
      case LabelRequirement::Op::kIn:
        if (!listed) return false;
        break;
      case LabelRequirement::Op::kNotEquals:
      case LabelRequirement::Op::kNotIn:
        if (listed) return false;
        break;
      case LabelRequirement::Op::kExists:
        if (!present) return false;
        break;
      case LabelRequirement::Op::kDoesNotExist:
        if (present) return false;
        break;
    }
  }
  return true;
}

}  // namespace recommender::output
