#pragma once
#include "cuda_backend.h"
#include "engine.h"

namespace glm {
// The CUDA backend's view of a loaded model.
glm_cuda::HostModel cuda_host_model(const Model &m);
} // namespace glm
