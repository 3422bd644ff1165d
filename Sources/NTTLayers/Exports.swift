@_exported import NTTAutodiff
