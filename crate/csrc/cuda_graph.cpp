// CUDA graphs for cnn_lab's training step: libtorch's at::cuda::CUDAGraph,
// which tch 0.24 does not bind, plus the side stream a capture needs.
// Rust side: crate/src/cuda/graph.rs.
//
// Built by crate/build.rs into a separate shared library
// (libcnn_lab_cuda.so) only where the CUDA runtime headers are found
// (nvidia/cu13/include beside pip's torch, with nvidia-cuda-crt), embedded
// in cnn_lab, and loaded only after libtorch's CUDA backend is: a CPU-only
// process never maps it. Errors follow guarded.h; the Rust side frees a
// message with ops.cpp's cnn_lab_free_message (both use the process's malloc).
//
// libtorch 2.11's CUDAGraph::capture_begin registers the default CUDA
// generator itself (it calls getDefaultCUDAGenerator and register_graph),
// so dropout draws new random numbers on each replay.
//
// The sequence is PyTorch's "whole network capture"
// (https://pytorch.org/docs/stable/notes/cuda.html#whole-network-capture):
// warm-up steps on a side stream, then capture_begin / the step /
// capture_end on that stream, then replay on the current stream.

#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/core/Event.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include "guarded.h"

#include <optional>

using cnn_lab::guarded;

namespace {

// `a.wait_stream(b)` in PyTorch: work queued on `waiter` from now on starts
// after everything queued on `waited` so far.
void wait_stream(const c10::cuda::CUDAStream &waiter, const c10::cuda::CUDAStream &waited) {
  c10::Event event(c10::DeviceType::CUDA);
  event.record(waited.unwrap());
  event.block(waiter.unwrap());
}

// at::cuda::CUDAGraph, plus the clean-up its capture_end skips when the
// capture fails (a step that copied to the CPU, say): libtorch 2.11 throws
// at cudaStreamEndCapture before it takes the generators out of capture
// mode and before the allocator stops serving the graph's pool (2.13
// likewise leaves the generators' per-capture state behind). Left so,
// the next eager dropout fails ("Offset increment outside graph capture
// encountered unexpectedly"), and eager training could not go on.
struct Capture : at::cuda::CUDAGraph {
  void end() {
    try {
      capture_end();
    } catch (...) {
      abandon();
      throw;
    }
  }

 private:
  void abandon() noexcept {
    // libtorch 2.13 keeps a generator's capture state per capture id; drop
    // this capture's, as CUDAGeneratorState::remove_capture_state would (it
    // is not exported from libtorch_cuda), so no later step sees a
    // half-finished capture.
    for (auto &entry : captured_generator_states_) {
      std::lock_guard<std::mutex> lock(entry.first->capture_states_mutex_);
      entry.first->capture_states_.erase(capture_id_);
    }
    try {
      // Already done where capture_end failed after it.
      c10::cuda::CUDACachingAllocator::endAllocateToPool(capture_dev_, mempool_id_);
    } catch (...) {
    }
  }
};

struct Graph {
  c10::DeviceIndex device;
  Capture graph;
  // The side stream, kept for warm-up and capture alike (cuBLAS and cuDNN
  // keep per-stream state that a capture must find already set up).
  c10::cuda::CUDAStream side;
  // The stream that was current before `enter`; restored by `leave`.
  std::optional<c10::cuda::CUDAStream> before;
  bool capturing = false;

  explicit Graph(c10::DeviceIndex d)
      : device(d), side(c10::cuda::getStreamFromPool(false, d)) {}
};

}  // namespace

extern "C" {

char *cnn_lab_cuda_graph_new(int64_t device, void **out) {
  *out = nullptr;
  return guarded([&] { *out = new Graph(static_cast<c10::DeviceIndex>(device)); });
}

void cnn_lab_cuda_graph_free(void *g) {
  auto *graph = static_cast<Graph *>(g);
  if (graph == nullptr) return;
  if (graph->capturing) {
    // A capture that never ended (an error inside the step): end it so the
    // stream is usable again; its graph is discarded with this object.
    try {
      graph->graph.end();
    } catch (...) {
    }
  }
  if (graph->before) c10::cuda::setCurrentCUDAStream(*graph->before);
  delete graph;
}

// Makes the side stream current (after it waits for the current one).
char *cnn_lab_cuda_graph_enter(void *g) {
  auto *graph = static_cast<Graph *>(g);
  return guarded([&] {
    auto current = c10::cuda::getCurrentCUDAStream(graph->device);
    wait_stream(graph->side, current);
    graph->before = current;
    c10::cuda::setCurrentCUDAStream(graph->side);
  });
}

// Makes the previous stream current again, waiting for the side stream.
char *cnn_lab_cuda_graph_leave(void *g) {
  auto *graph = static_cast<Graph *>(g);
  return guarded([&] {
    if (!graph->before) return;
    wait_stream(*graph->before, graph->side);
    c10::cuda::setCurrentCUDAStream(*graph->before);
    graph->before.reset();
  });
}

char *cnn_lab_cuda_graph_capture_begin(void *g) {
  auto *graph = static_cast<Graph *>(g);
  return guarded([&] {
    // As torch.cuda.graph does: no work of before still in flight.
    c10::cuda::device_synchronize();
    graph->graph.capture_begin();
    graph->capturing = true;
  });
}

char *cnn_lab_cuda_graph_capture_end(void *g) {
  auto *graph = static_cast<Graph *>(g);
  return guarded([&] {
    graph->capturing = false;
    graph->graph.end();
  });
}

char *cnn_lab_cuda_graph_replay(void *g) {
  auto *graph = static_cast<Graph *>(g);
  return guarded([&] { graph->graph.replay(); });
}

}  // extern "C"
