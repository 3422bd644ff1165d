import Foundation

/// The contents of a safetensors file.
public struct SafeTensorsFile: Sendable {
    public let path: String
    /// Tensor names in file order.
    public let names: [String]
    public let tensors: [String: Tensor]
    public let metadata: [String: String]

    /// Checks names and shapes against what a model needs; the error lists every difference.
    public func checkMatches(expected: [(name: String, shape: [Int])]) throws {
        var problems: [String] = []
        let expectedNames = Set(expected.map(\.name))
        let missing = expected.map(\.name).filter { tensors[$0] == nil }
        if !missing.isEmpty { problems.append("missing \(missing.joined(separator: ", "))") }
        let unexpected = names.filter { !expectedNames.contains($0) }
        if !unexpected.isEmpty { problems.append("unexpected \(unexpected.joined(separator: ", "))") }
        for (name, shape) in expected {
            if let t = tensors[name], t.shape != shape {
                problems.append("\(name) has shape \(t.shape), expected \(shape)")
            }
        }
        if !problems.isEmpty {
            throw NTTError("\(path) does not match the model: \(problems.joined(separator: "; "))")
        }
    }
}
