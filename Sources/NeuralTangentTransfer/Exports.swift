@_exported import NTTLayers
