// A tiny JSON reader for the tools (golden files): enough for objects, arrays, numbers, strings.
#pragma once

#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace jsonmini {

struct Value {
    enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
    double num = 0;
    bool b = false;
    std::string str;
    std::vector<Value> arr;
    std::map<std::string, Value> obj;

    const Value &operator[](const std::string &k) const {
        auto it = obj.find(k);
        if (it == obj.end()) throw std::runtime_error("missing JSON key '" + k + "'");
        return it->second;
    }
    bool has(const std::string &k) const { return obj.count(k) != 0; }
};

class Parser {
public:
    explicit Parser(const std::string &s) : s_(s) {}
    Value parse() {
        Value v = value();
        ws();
        if (i_ != s_.size()) throw std::runtime_error("trailing JSON data");
        return v;
    }

private:
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) i_++;
    }
    char peek() {
        ws();
        if (i_ >= s_.size()) throw std::runtime_error("unexpected end of JSON");
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) throw std::runtime_error(std::string("JSON: expected ") + c);
        i_++;
    }
    Value value() {
        char c = peek();
        Value v;
        if (c == '{') {
            v.kind = Value::Obj;
            i_++;
            if (peek() == '}') {
                i_++;
                return v;
            }
            for (;;) {
                std::string k = string();
                expect(':');
                v.obj[k] = value();
                if (peek() == ',') {
                    i_++;
                    continue;
                }
                expect('}');
                return v;
            }
        }
        if (c == '[') {
            v.kind = Value::Arr;
            i_++;
            if (peek() == ']') {
                i_++;
                return v;
            }
            for (;;) {
                v.arr.push_back(value());
                if (peek() == ',') {
                    i_++;
                    continue;
                }
                expect(']');
                return v;
            }
        }
        if (c == '"') {
            v.kind = Value::Str;
            v.str = string();
            return v;
        }
        if (s_.compare(i_, 4, "true") == 0) {
            v.kind = Value::Bool;
            v.b = true;
            i_ += 4;
            return v;
        }
        if (s_.compare(i_, 5, "false") == 0) {
            v.kind = Value::Bool;
            i_ += 5;
            return v;
        }
        if (s_.compare(i_, 4, "null") == 0) {
            i_ += 4;
            return v;
        }
        const char *start = s_.c_str() + i_;
        char *end = nullptr;
        v.num = std::strtod(start, &end);
        if (end == start) throw std::runtime_error("bad JSON value");
        v.kind = Value::Num;
        i_ += (size_t)(end - start);
        return v;
    }
    std::string string() {
        expect('"');
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            if (s_[i_] == '\\') {
                i_++;
                char e = s_[i_++];
                switch (e) {
                    case 'n':
                        out += '\n';
                        break;
                    case 't':
                        out += '\t';
                        break;
                    case 'r':
                        out += '\r';
                        break;
                    case 'b':
                        out += '\b';
                        break;
                    case 'f':
                        out += '\f';
                        break;
                    case 'u': {
                        unsigned cp = std::stoul(s_.substr(i_, 4), nullptr, 16);
                        i_ += 4;
                        if (cp >= 0xD800 && cp < 0xDC00 && s_.compare(i_, 2, "\\u") == 0) {
                            unsigned lo = std::stoul(s_.substr(i_ + 2, 4), nullptr, 16);
                            i_ += 6;
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        }
                        if (cp < 0x80)
                            out += (char)cp;
                        else if (cp < 0x800) {
                            out += (char)(0xC0 | (cp >> 6));
                            out += (char)(0x80 | (cp & 63));
                        } else if (cp < 0x10000) {
                            out += (char)(0xE0 | (cp >> 12));
                            out += (char)(0x80 | ((cp >> 6) & 63));
                            out += (char)(0x80 | (cp & 63));
                        } else {
                            out += (char)(0xF0 | (cp >> 18));
                            out += (char)(0x80 | ((cp >> 12) & 63));
                            out += (char)(0x80 | ((cp >> 6) & 63));
                            out += (char)(0x80 | (cp & 63));
                        }
                        break;
                    }
                    default:
                        out += e;
                }
            } else {
                out += s_[i_++];
            }
        }
        if (i_ >= s_.size()) throw std::runtime_error("unterminated JSON string");
        i_++;
        return out;
    }
    const std::string &s_;
    size_t i_ = 0;
};

} // namespace jsonmini
