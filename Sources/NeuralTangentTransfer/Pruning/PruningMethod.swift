import NTTLayers
