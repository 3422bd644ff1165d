@_exported import NTTKernels
