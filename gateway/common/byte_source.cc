#include "gateway/common/byte_source.h"

#include <cerrno>
#include <cstring>

namespace gw {

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<FileSource>(new FileSource(stdin, false));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<FileSource>(new FileSource(f, true));
}

FileSource::~FileSource() {
  if (owned_ && file_ != nullptr) std::fclose(file_);
}

Result<size_t> FileSource::Read(char* buffer, size_t capacity) {
  size_t n = std::fread(buffer, 1, capacity, file_);
  if (n == 0 && std::ferror(file_)) return Status::IoError(std::string("read failed: ") + std::strerror(errno));
  return n;
}

Result<size_t> StringSource::Read(char* buffer, size_t capacity) {
  size_t n = std::min(capacity, data_.size() - pos_);
  std::memcpy(buffer, data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Result<size_t> ObservedSource::Read(char* buffer, size_t capacity) {
  auto n = inner_.Read(buffer, capacity);
  if (n.ok() && *n > 0) observer_(std::string_view(buffer, *n));
  return n;
}

}  // namespace gw
