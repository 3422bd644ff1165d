// zlib, used to read gzipped IDX files (Debian: zlib1g-dev).
#include <zlib.h>
