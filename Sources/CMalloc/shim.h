// glibc allocator controls (mallopt).
#include <malloc.h>
