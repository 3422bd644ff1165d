/// What a dataset is loaded for. A label-free union (`cifar10+svhn`) loads only for the
/// transfer; asking for it for supervised use (training, label-based pruning, evaluation) is
/// an error at load time, before any file is read.
public enum DatasetUse: Sendable {
    case supervised
    case transfer
}
