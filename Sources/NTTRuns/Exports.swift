// A Swift user imports NTTRuns and gets the method (NeuralTangentTransfer) with it.
@_exported import NeuralTangentTransfer
