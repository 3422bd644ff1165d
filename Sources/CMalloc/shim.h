// glibc allocator controls (mallopt), and the CPU's spin-wait hint for busy loops.
#include <malloc.h>

static inline void ntt_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
