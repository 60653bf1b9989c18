// ByteSource: a pull-based stream of bytes that adapters read from. Files,
// HTTP bodies and transcoders all present themselves as a ByteSource so that
// adapters stream whatever the origin, and memory never grows with the input.
//
// Thread-safety: a ByteSource is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/common/status.h"

namespace gw {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `capacity` bytes into `buffer`. Returns the number of bytes
  // read; 0 means end of input. Errors are whole-stream faults.
  virtual Result<size_t> Read(char* buffer, size_t capacity) = 0;
};

// Reads a file (or standard input for "-").
class FileSource : public ByteSource {
 public:
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path);
  ~FileSource() override;
  Result<size_t> Read(char* buffer, size_t capacity) override;

 private:
  FileSource(std::FILE* f, bool owned) : file_(f), owned_(owned) {}
  std::FILE* file_;
  bool owned_;
};

// Serves an in-memory string (tests, small bodies).
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* buffer, size_t capacity) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

// Passes bytes through while letting an observer see every chunk (hashing,
// counting, progress). The observer must not throw.
class ObservedSource : public ByteSource {
 public:
  using Observer = std::function<void(std::string_view chunk)>;
  ObservedSource(ByteSource& inner, Observer observer)
      : inner_(inner), observer_(std::move(observer)) {}
  Result<size_t> Read(char* buffer, size_t capacity) override;

 private:
  ByteSource& inner_;
  Observer observer_;
};

}  // namespace gw
