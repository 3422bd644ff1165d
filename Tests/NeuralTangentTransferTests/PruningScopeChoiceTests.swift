import Foundation
import Testing
@testable import NeuralTangentTransfer

/// The scope each method gets under `--prune native`, and the copy of that table that
/// scripts/results/share-cells.sh carries (a shell script cannot ask the library): they must agree,
/// or the script would share cells that two scopes compute differently.
struct PruningScopeChoiceTests {
    @Test func nativeScopesAreThoseOfTheReferenceCode() {
        let choice = PruningScopeChoice.native
        #expect(choice.scope(for: nil) == .layerwise)  // NTT's transfer
        for method in [PruningMethod.random, .scaledRandom, .magnitude, .dense] {
            #expect(choice.scope(for: method) == .layerwise, "\(method)")
        }
        for method in [PruningMethod.snip, .logitSnip, .grasp, .synflow, .ntkSap] {
            #expect(choice.scope(for: method) == .global, "\(method)")
        }
        #expect(PruningScopeChoice.global.scope(for: .random) == .global)
        #expect(PruningScopeChoice.layerwise.scope(for: .snip) == .layerwise)
    }

    @Test func theShareCellsScriptKnowsTheSameNativeScopes() throws {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/results/share-cells.sh")
        let text = try String(contentsOf: script, encoding: .utf8)
        // The table: native = {"ntt": "layerwise", "random": "layerwise", …}
        let start = try #require(text.range(of: "native = {")), end = try #require(text.range(
            of: "}", range: start.upperBound..<text.endIndex))
        let table = text[start.upperBound..<end.lowerBound]
        var scripted: [String: String] = [:]
        for entry in table.split(separator: ",") {
            let parts = entry.split(separator: ":").map { $0.trimmingCharacters(in: .whitespacesAndNewlines.union(
                CharacterSet(charactersIn: "\""))) }
            #expect(parts.count == 2, "entry \(entry)")
            if parts.count == 2 { scripted[parts[0]] = parts[1] }
        }
        var expected = ["ntt": PruningScopeChoice.native.scope(for: nil).rawValue]
        for method in PruningMethod.allCases where method != .dense {
            expected[method.rawValue] = PruningScopeChoice.native.scope(for: method).rawValue
        }
        #expect(scripted == expected)
    }
}
