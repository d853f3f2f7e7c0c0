// The persistent thread pool the CPU forward pass runs its matrix products and attention on.
#include "engine.h"

#include <algorithm>
#include <immintrin.h>

namespace glm {

ThreadPool::ThreadPool(int n) : n_(std::max(1, n)) {
    for (int i = 1; i < n_; i++) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> g(mu_);
        stop_.store(true);
    }
    cv_.notify_all();
    for (auto &t : threads_) t.join();
}

void ThreadPool::work(uint32_t gen, int id) {
    Slot &s = slots_[gen & 1];
    for (;;) {
        uint64_t st = state_.load(std::memory_order_acquire);
        if ((uint32_t)(st >> 32) != gen) return;
        const int64_t n = s.n.load(std::memory_order_relaxed);
        const auto *fn = s.fn.load(std::memory_order_relaxed);
        const uint32_t next = (uint32_t)st;
        if ((int64_t)next >= n) return;
        // The CAS succeeds only while the generation is still `gen`, so fn and n are its own.
        if (state_.compare_exchange_weak(st, st + 1, std::memory_order_acq_rel)) {
            (*fn)(next, id);
            s.done.fetch_add(1, std::memory_order_release);
        }
    }
}

void ThreadPool::worker(int id) {
    uint32_t seen = 0;
    for (;;) {
        int spins = 0;
        while ((uint32_t)(state_.load(std::memory_order_acquire) >> 32) == seen &&
               !stop_.load(std::memory_order_relaxed) && spins < 20000) {
            _mm_pause();
            spins++;
        }
        if ((uint32_t)(state_.load(std::memory_order_acquire) >> 32) == seen && !stop_.load()) {
            std::unique_lock<std::mutex> lk(mu_);
            cv_.wait(lk,
                     [&] { return stop_.load() || (uint32_t)(state_.load(std::memory_order_acquire) >> 32) != seen; });
        }
        if (stop_.load()) return;
        seen = (uint32_t)(state_.load(std::memory_order_acquire) >> 32);
        work(seen, id);
    }
}

void ThreadPool::parallel_for(int64_t n_tasks, const std::function<void(int64_t, int)> &fn) {
    if (n_tasks <= 0) return;
    if (n_ == 1 || n_tasks == 1) {
        for (int64_t t = 0; t < n_tasks; t++) fn(t, 0);
        return;
    }
    const uint32_t g = ++gen_;
    Slot &s = slots_[g & 1];
    s.fn.store(&fn, std::memory_order_relaxed);
    s.n.store(n_tasks, std::memory_order_relaxed);
    s.done.store(0, std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lk(mu_);
        state_.store((uint64_t)g << 32, std::memory_order_release);
    }
    cv_.notify_all();
    work(g, 0);
    int spins = 0;
    while (s.done.load(std::memory_order_acquire) < n_tasks) {
        if (++spins < 50000)
            _mm_pause();
        else
            std::this_thread::yield();
    }
}

} // namespace glm
