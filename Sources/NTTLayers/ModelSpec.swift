import NTTKernels

/// A sequential architecture written as a short string, e.g.
/// `conv(20,5),relu,maxpool(2),flatten,dense(500),relu,dense(10)`.
///
/// Grammar (tokens separated by commas, spaces ignored, names case-insensitive):
///
///     dense(UNITS)
///     conv(FILTERS, K [, stride=S] [, padding=valid|same])     K, S: N or HxW
///     maxpool(K [, stride=S] [, padding=valid|same])            stride defaults to K
///     avgpool(K [, stride=S] [, padding=valid|same])
///     relu | flatten | dropout(RATE)                            RATE in [0, 1)
///
/// Built-in names (`ModelSpec.builtin`) expand to such strings for a given number of classes.
public struct ModelSpec: Sendable, Hashable, CustomStringConvertible {
    public var layers: [Layer]

    public init(layers: [Layer]) { self.layers = layers }

    /// The architectures of the paper, by name, for `classes` outputs.
    public static let builtinNames = ["lenet-300-100", "lenet5-caffe", "conv4", "conv4-dropout", "conv4-same"]

    public static func builtin(_ name: String, classes: Int) -> ModelSpec? {
        let text: String
        switch name {
        case "lenet-300-100": text = "dense(300),relu,dense(100),relu,dense(\(classes))"
        case "lenet5-caffe":
            text = "conv(20,5),relu,maxpool(2),conv(50,5),relu,maxpool(2),flatten,dense(500),relu,dense(\(classes))"
        case "conv4", "conv4-dropout", "conv4-same":
            // The original's Conv-4: stax.Conv's default padding is VALID (32 → 30 → 28 → 14 → 12 → 10
            // → 5, flatten 3200). `conv4-same` keeps every map's size (flatten 8192 on 32×32).
            let pad = name == "conv4-same" ? ",padding=same" : ""
            let drop = name == "conv4-dropout"
            text = "conv(64,3\(pad)),relu,conv(64,3\(pad)),relu,maxpool(2),\(drop ? "dropout(0.25)," : "")"
                + "conv(128,3\(pad)),relu,conv(128,3\(pad)),relu,maxpool(2),\(drop ? "dropout(0.25)," : "")"
                + "flatten,dense(512),relu,\(drop ? "dropout(0.5)," : "")dense(\(classes))"
        default: return nil
        }
        return try! ModelSpec(parsing: text)
    }

    /// A built-in name or a spec string.
    public static func resolve(_ nameOrSpec: String, classes: Int) throws(ModelSpecError) -> ModelSpec {
        if let spec = builtin(nameOrSpec, classes: classes) { return spec }
        if !nameOrSpec.contains("("), !["relu", "flatten"].contains(where: { nameOrSpec.lowercased().hasPrefix($0) }) {
            throw ModelSpecError("unknown model '\(nameOrSpec)'; expected one of "
                                 + "\(builtinNames.joined(separator: ", "))"
                                 + " or a spec such as 'dense(300),relu,dense(10)'")
        }
        return try ModelSpec(parsing: nameOrSpec)
    }

    public init(parsing text: String) throws(ModelSpecError) {
        let tokens = try ModelSpec.split(text)
        guard !tokens.isEmpty else { throw ModelSpecError("model spec is empty") }
        layers = try tokens.map { token throws(ModelSpecError) in try ModelSpec.parseLayer(token) }
    }

    /// The canonical spec string (parses back to the same layers).
    public var description: String {
        layers.map { layer -> String in
            switch layer {
            case .dense(let u): return "dense(\(u))"
            case .conv(let f, let k, let s, let p):
                return "conv(\(f),\(k)" + (s == Window(1) ? "" : ",stride=\(s)")
                    + (p == .valid ? "" : ",padding=\(p.rawValue)") + ")"
            case .relu: return "relu"
            case .flatten: return "flatten"
            case .dropout(let r): return "dropout(\(r))"
            case .maxPool(let w, let s, let p), .avgPool(let w, let s, let p):
                let name = { if case .maxPool = layer { return "maxpool" } else { return "avgpool" } }()
                return "\(name)(\(w)" + (s == w ? "" : ",stride=\(s)")
                    + (p == .valid ? "" : ",padding=\(p.rawValue)") + ")"
            }
        }.joined(separator: ",")
    }

    /// Splits on top-level commas, keeping parenthesised arguments together.
    private static func split(_ text: String) throws(ModelSpecError) -> [String] {
        var tokens: [String] = [], current = "", depth = 0
        for ch in text where !ch.isWhitespace {
            switch ch {
            case "(": depth += 1; current.append(ch)
            case ")":
                depth -= 1
                guard depth >= 0 else { throw ModelSpecError("unbalanced ')' after '\(current)'") }
                current.append(ch)
            case "," where depth == 0:
                guard !current.isEmpty else {
                    throw ModelSpecError("empty layer between commas (after '\(tokens.last ?? "")')")
                }
                tokens.append(current); current = ""
            default: current.append(ch)
            }
        }
        guard depth == 0 else { throw ModelSpecError("unclosed '(' in '\(current)'") }
        if !current.isEmpty { tokens.append(current) } else if !tokens.isEmpty {
            throw ModelSpecError("trailing comma after '\(tokens.last!)'")
        }
        return tokens
    }

    private static func parseLayer(_ token: String) throws(ModelSpecError) -> Layer {
        let lower = token.lowercased()
        let name: String, args: [String]
        if let open = lower.firstIndex(of: "(") {
            guard lower.hasSuffix(")") else { throw ModelSpecError("in '\(token)': expected ')' at the end") }
            name = String(lower[..<open])
            let inner = lower[lower.index(after: open)..<lower.index(before: lower.endIndex)]
            args = inner.isEmpty ? [] : inner.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        } else {
            name = lower; args = []
        }
        func bad(_ why: String) -> ModelSpecError { ModelSpecError("in '\(token)': \(why)") }
        func positiveInt(_ s: String, _ what: String) throws(ModelSpecError) -> Int {
            guard let v = Int(s), v > 0 else { throw bad("\(what) must be a positive integer, got '\(s)'") }
            return v
        }
        func window(_ s: String, _ what: String) throws(ModelSpecError) -> Window {
            let parts = s.split(separator: "x", omittingEmptySubsequences: false).map(String.init)
            switch parts.count {
            case 1: return Window(try positiveInt(parts[0], what))
            case 2: return Window(try positiveInt(parts[0], what), try positiveInt(parts[1], what))
            default: throw bad("\(what) must be N or HxW, got '\(s)'")
            }
        }
        // Splits positional and key=value arguments.
        func options(_ args: [String], positional: Int,
                     keys: Set<String>) throws(ModelSpecError) -> ([String], [String: String]) {
            var pos: [String] = [], named: [String: String] = [:]
            for a in args {
                if let eq = a.firstIndex(of: "=") {
                    let key = String(a[..<eq]), value = String(a[a.index(after: eq)...])
                    guard keys.contains(key) else {
                        throw bad("unknown option '\(key)'; expected \(keys.sorted().joined(separator: " or "))")
                    }
                    named[key] = value
                } else {
                    guard named.isEmpty else { throw bad("positional argument '\(a)' after a named one") }
                    pos.append(a)
                }
            }
            guard pos.count == positional else {
                throw bad("expected \(positional) positional argument\(positional == 1 ? "" : "s"), got \(pos.count)")
            }
            return (pos, named)
        }
        func padding(_ named: [String: String]) throws(ModelSpecError) -> Padding {
            guard let p = named["padding"] else { return .valid }
            guard let value = Padding(rawValue: p) else { throw bad("padding must be 'valid' or 'same', got '\(p)'") }
            return value
        }
        switch name {
        case "dense":
            let (pos, _) = try options(args, positional: 1, keys: [])
            return .dense(units: try positiveInt(pos[0], "units"))
        case "conv":
            let (pos, named) = try options(args, positional: 2, keys: ["stride", "padding"])
            return .conv(filters: try positiveInt(pos[0], "filters"), kernel: try window(pos[1], "kernel"),
                         stride: try named["stride"].map { s throws(ModelSpecError) in try window(s, "stride") }
                             ?? Window(1),
                         padding: try padding(named))
        case "maxpool", "avgpool":
            let (pos, named) = try options(args, positional: 1, keys: ["stride", "padding"])
            let w = try window(pos[0], "window")
            let s = try named["stride"].map { s throws(ModelSpecError) in try window(s, "stride") } ?? w
            return name == "maxpool" ? .maxPool(window: w, stride: s, padding: try padding(named))
                                     : .avgPool(window: w, stride: s, padding: try padding(named))
        case "relu", "flatten":
            guard args.isEmpty else { throw bad("takes no arguments") }
            return name == "relu" ? .relu : .flatten
        case "dropout":
            let (pos, _) = try options(args, positional: 1, keys: [])
            guard let r = Double(pos[0]), r >= 0, r < 1 else {
                throw bad("rate must be a number in [0, 1), got '\(pos[0])'")
            }
            return .dropout(rate: r)
        default:
            throw ModelSpecError("unknown layer '\(token)'; "
                                 + "expected dense, conv, relu, maxpool, avgpool, flatten or dropout")
        }
    }
}
