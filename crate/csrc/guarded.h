// The error convention of cnn_lab's C++ shims (ops.cpp, cuda_graph.cpp):
// a function returns nullptr on success, or an error message from malloc
// that the Rust side frees; no C++ exception crosses into Rust.
#pragma once

#include <c10/util/Exception.h>

#include <cstdlib>
#include <cstring>
#include <exception>

namespace cnn_lab {

inline char *message(const char *what) {
  size_t n = std::strlen(what);
  char *copy = static_cast<char *>(std::malloc(n + 1));
  if (copy != nullptr) std::memcpy(copy, what, n + 1);
  return copy;
}

// Runs `f`, turning any exception into a message.
template <typename F> char *guarded(F f) {
  try {
    f();
    return nullptr;
  } catch (const c10::Error &e) {
    return message(e.what_without_backtrace());
  } catch (const std::exception &e) {
    return message(e.what());
  } catch (...) {
    return message("unknown C++ exception");
  }
}

}  // namespace cnn_lab
