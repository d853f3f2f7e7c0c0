// AVX-512 / VNNI kernels: not shipped in this version. The AVX2 path runs on AVX-512 machines;
// GLM_CPU_PATH=avx512 falls back to it (see glm_system_info for the path in use).
#include "kernels.h"

namespace glm {
const KernelSet *kernels_avx512() { return nullptr; }
}  // namespace glm
