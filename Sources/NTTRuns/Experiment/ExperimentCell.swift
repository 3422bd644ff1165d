import NeuralTangentTransfer

/// One independent unit of an experiment: a transfer run, or a supervised run from one
/// initialisation. Its folder is `cells/<id>`; it is finished when `done.json` exists there.
public struct ExperimentCell: Hashable, Codable, Sendable {
    public enum Kind: String, Codable, Sendable { case transfer, train }
    public var kind: Kind
    public var model: String
    public var dataset: String
    /// 1 for `dense`.
    public var density: Double
    public var initialization: InitializationMethod
    public var seed: UInt64

    public init(kind: Kind, model: String, dataset: String, density: Double, initialization: InitializationMethod,
                seed: UInt64) {
        self.kind = kind; self.model = model; self.dataset = dataset; self.density = density
        self.initialization = initialization; self.seed = seed
    }

    /// A path-safe, unique, readable id: `<model>/<dataset>/<kind>-<init>-d<density>-s<seed>`.
    public var id: String {
        let name: String
        switch kind {
        case .transfer: name = "transfer-d\(density)-s\(seed)"
        case .train:
            name = initialization.isDense ? "train-dense-s\(seed)" : "train-\(initialization.name)-d\(density)-s\(seed)"
        }
        return "\(Self.slug(model))/\(dataset)/\(name)"
    }

    /// The transfer cell a `ntt` training cell starts from.
    public var dependency: ExperimentCell? {
        guard kind == .train && initialization == .ntt else { return nil }
        return ExperimentCell(kind: .transfer, model: model, dataset: dataset, density: density,
                              initialization: .ntt, seed: seed)
    }

    /// The dense training cell of the same model, dataset and seed: a sparse training cell's
    /// reference (`--reference`), trained in lockstep with it (same data order and seed).
    public var reference: ExperimentCell? {
        guard kind == .train && !initialization.isDense else { return nil }
        return ExperimentCell(kind: .train, model: model, dataset: dataset, density: 1,
                              initialization: .pruning(.dense), seed: seed)
    }

    /// The cells of a grid that must finish before this one: its transfer (`ntt` cells) and its
    /// dense reference, when the grid has one.
    public func dependencies(in grid: Set<ExperimentCell>) -> [ExperimentCell] {
        [dependency, reference].compactMap { $0 }.filter(grid.contains)
    }

    /// Built-in names as they are; spec strings as their safe characters plus a short hash.
    static func slug(_ model: String) -> String {
        if model.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) { return model }
        var safe = ""
        for c in model {
            let ok = c.isASCII && (c.isLetter || c.isNumber)
            if ok { safe.append(c) } else if !safe.hasSuffix("_") { safe.append("_") }
        }
        var hash: UInt32 = 2_166_136_261  // FNV-1a, so different specs never share a folder
        for byte in model.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return String(safe.prefix(40)) + "-" + String(hash, radix: 16)
    }
}
