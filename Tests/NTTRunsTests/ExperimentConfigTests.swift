import Foundation
import Testing
@testable import NeuralTangentTransfer
@testable import NTTRuns

struct ExperimentGridTests {
    func grid() -> ExperimentConfig {
        var c = ExperimentConfig()
        c.models = ["lenet-300-100", "dense(32),relu,dense(10)"]
        c.datasets = ["synthetic"]
        c.densities = [0.01, 0.1]
        c.initializations = [.ntt, .pruning(.random), .pruning(.dense)]
        c.seeds = [0, 1]
        return c
    }

    @Test func cellsCoverTheGridOnceWithTransfersFirst() {
        let cells = grid().cells
        // Per model and seed: 2 transfers, 2 ntt + 2 random trainings, 1 dense (density does not apply).
        #expect(cells.count == 2 * 2 * (2 + 2 + 2 + 1))
        #expect(Set(cells).count == cells.count && Set(cells.map(\.id)).count == cells.count)
        let firstTrain = cells.firstIndex { $0.kind == .train }!
        #expect(cells[..<firstTrain].allSatisfy { $0.kind == .transfer }
                && cells[firstTrain...].allSatisfy { $0.kind == .train })
        #expect(cells.filter { $0.initialization.isDense }.allSatisfy { $0.density == 1 })
        // Every ntt training cell depends on a transfer cell of the grid with the same settings; others on nothing.
        for c in cells where c.kind == .train {
            if c.initialization == .ntt {
                let d = c.dependency!
                #expect(cells.contains(d) && d.density == c.density && d.seed == c.seed && d.model == c.model)
            } else {
                #expect(c.dependency == nil)
            }
        }
    }

    /// Sparse training cells run after the dense cell of their seed (their reference) when the grid
    /// has it; ntt cells after their transfer too; the dense cells and transfers after nothing.
    @Test func sparseCellsDependOnTheDenseCellOfTheirSeed() {
        let cells = grid().cells
        let all = Set(cells)
        for c in cells {
            let dependencies = c.dependencies(in: all)
            if c.kind == .transfer || c.initialization.isDense {
                #expect(dependencies.isEmpty)
            } else {
                let dense = ExperimentCell(kind: .train, model: c.model, dataset: c.dataset, density: 1,
                                           initialization: .pruning(.dense), seed: c.seed)
                #expect(dependencies == (c.initialization == .ntt ? [c.dependency!, dense] : [dense]))
                #expect(all.contains(dense))
            }
        }
        var noDense = grid()
        noDense.initializations = [.ntt, .pruning(.random)]
        let sparse = Set(noDense.cells)
        #expect(sparse.allSatisfy { $0.dependencies(in: sparse) == [$0.dependency].compactMap { $0 } })
    }

    @Test func idsArePathSafeAndDistinguishSpecs() {
        let a = ExperimentCell(kind: .train, model: "dense(32),relu,dense(10)", dataset: "synthetic", density: 0.03,
                               initialization: .pruning(.snip), seed: 2)
        #expect(a.id.hasSuffix("/synthetic/train-snip-d0.03-s2"))
        let folder = a.id.split(separator: "/").first!
        #expect(folder.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        var b = a
        b.model = "dense(32),relu,dense(11)"
        #expect(a.id != b.id)
        b.model = "lenet5-caffe"
        #expect(b.id == "lenet5-caffe/synthetic/train-snip-d0.03-s2")
        let dense = ExperimentCell(kind: .train, model: "lenet5-caffe", dataset: "mnist", density: 1,
                                   initialization: .pruning(.dense), seed: 0)
        #expect(dense.id == "lenet5-caffe/mnist/train-dense-s0")
    }

    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("experiment-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func configFileTakesDefaultsForMissingKeys() throws {
        let path = try write(#"{"densities": [0.05], "seeds": [7], "train_iterations": 30,"#
                             + #" "data_directories": {"mnist": "/data/mnist"}, "ntk_sap_resamples": 5}"#)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = try ExperimentConfig.load(path)
        #expect(c.densities == [0.05] && c.seeds == [7] && c.trainIterations == 30 && c.models == ["lenet-300-100"])
        #expect(c.ntkSapResamples == 5 && ExperimentConfig().ntkSapResamples == NtkSapPruner.defaultResamples)
        #expect(c.dataDirectory(for: "mnist") == "/data/mnist" && c.dataDirectory(for: "kmnist") == nil)
        // What is written back reads the same.
        let copy = try write(String(decoding: try RunJSON.encoder.encode(c), as: UTF8.self))
        defer { try? FileManager.default.removeItem(atPath: copy) }
        #expect(try ExperimentConfig.load(copy) == c)
    }

    @Test func badConfigFilesNameTheFileAndTheProblem() throws {
        let cases = [
            (#"{"densitys": [0.1]}"#, "unknown key 'densitys'"),
            (#"{"densities": [0]}"#, "--densities must be in (0, 1]"),
            (#"{"densities": "0.1"}"#, "wrong type at 'densities'"),
            (#"{"initializations": ["ntt", "lottery"]}"#, "unknown initialisation 'lottery'"),
            (#"{"datasets": ["imagenet"]}"#, "unknown dataset 'imagenet'"),
            (#"{"seeds": [1, 1]}"#, "must not repeat"),
            (#"{"ntk_sap_resamples": 0}"#, "--ntk-sap-resamples must be a positive count, got 0"),
            (#"[1, 2]"#, "not a JSON object"),
        ]
        for (text, message) in cases {
            let path = try write(text)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect {
                try ExperimentConfig.load(path)
            } throws: { error in
                let d = "\(error)"
                return d.contains(path) && d.contains(message)
            }
        }
    }

    @Test func lockIsExclusiveAndReleased() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)/cell.lock")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        #expect(!FileLock.isHeld(url))
        var lock = try FileLock(url)
        #expect(lock != nil)
        #expect(FileLock.isHeld(url))
        #expect(try FileLock(url) == nil)
        lock = nil
        #expect(!FileLock.isHeld(url))
    }
}
