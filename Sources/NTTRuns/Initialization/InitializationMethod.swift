import NeuralTangentTransfer

/// How an experiment's training cell gets its sparse initialisation: from the transfer run of
/// the same model, dataset, density and seed (`ntt`), or from a pruning-at-init method (`dense`
/// included). Written as its name (`"ntt"`, `"snip"`, …) in JSON and on the command line.
public enum InitializationMethod: Hashable, Sendable, Codable, CustomStringConvertible {
    case ntt
    case pruning(PruningMethod)

    public init?(name: String) {
        if name == "ntt" {
            self = .ntt
        } else if let m = PruningMethod(rawValue: name) {
            self = .pruning(m)
        } else {
            return nil
        }
    }

    /// The initialisation named `text`; the one-line error names `flag` and the choices.
    public static func parse(_ text: String, flag: String) throws -> InitializationMethod {
        guard let method = InitializationMethod(name: text) else {
            throw NTTError("\(flag): unknown initialisation '\(text)'; expected one of \(names)")
        }
        return method
    }

    public var name: String {
        switch self {
        case .ntt: return "ntt"
        case .pruning(let m): return m.rawValue
        }
    }

    public var description: String { name }

    /// The unpruned network (trained at density 1).
    public var isDense: Bool { self == .pruning(.dense) }

    /// Every method, in the order reports list them: ntt first, then the pruning methods, dense last.
    public static var all: [InitializationMethod] { [.ntt] + PruningMethod.allCases.map { .pruning($0) } }

    /// The names, for help texts and errors.
    public static var names: String { all.map(\.name).joined(separator: ", ") }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = InitializationMethod(name: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown initialisation '\(text)'; "
                                                        + "expected \(Self.names)"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}
