import Foundation
import Testing

/// End-to-end tests: run the built `ntt` executable as users do.
struct CommandLineTests {
    struct Result { let status: Int32; let stdout: String; let stderr: String }

    static let executable: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = directory.appendingPathComponent("ntt")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: "ntt")
    }()

    @discardableResult
    static func run(_ arguments: [String], interruptWhenExists: String? = nil,
                    in directory: String? = nil) throws -> Result {
        try run(arguments, interruptWhen: interruptWhenExists.map { path in
            { FileManager.default.fileExists(atPath: path) }
        }, in: directory)
    }

    /// Runs `ntt`; with `interruptWhen`, sends `signal` (Ctrl-C's SIGINT unless told) once it says
    /// the run has started.
    @discardableResult
    static func run(_ arguments: [String], interruptWhen started: (() -> Bool)?, signal: Int32 = SIGINT,
                    in directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        // Output goes to files, not pipes: a full pipe would block the child while we wait on the other one.
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("ntt-cli-output-\(UUID().uuidString)")
        let outURL = scratch.appendingPathExtension("out"), errURL = scratch.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        if let started {
            // Wait until the run has started (e.g. its first file exists), then press Ctrl-C.
            let deadline = Date().addingTimeInterval(120)
            while !started() && Date() < deadline && process.isRunning {
                Thread.sleep(forTimeInterval: 0.05)
            }
            Thread.sleep(forTimeInterval: 0.5)
            kill(process.processIdentifier, signal)
            // Never hang the suite: a child that ignores the signal is killed (and the test fails on its status).
            let exitDeadline = Date().addingTimeInterval(60)
            while process.isRunning && Date() < exitDeadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        let stdout = try Data(contentsOf: outURL), stderr = try Data(contentsOf: errURL)
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ntt-cli-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A failing command: non-zero exit, one error line on stderr naming what was wrong, no trace.
    static func expectCleanFailure(_ arguments: [String], mentions: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try run(arguments)
        #expect(r.status != 0, "\(arguments) succeeded", sourceLocation: sourceLocation)
        // Progress lines ("  0% transfer 0/50 …") are not errors; everything else on stderr must be one line.
        let lines = r.stderr.split(separator: "\n").filter {
            !$0.isEmpty && !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See '")
                && $0.range(of: #"^ *[0-9]+% "#, options: .regularExpression) == nil
        }
        #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(mentions), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
    }

    @Test func helpListsEveryCommand() throws {
        let r = try Self.run(["--help"])
        #expect(r.status == 0)
        for command in ["demo", "transfer", "train", "prune", "kernel", "bench"] { #expect(r.stdout.contains(command)) }
        let transfer = try Self.run(["transfer", "--help"])
        #expect(transfer.stdout.contains("--lambda-kernel") && transfer.stdout.contains("(default: 0.001)"))
    }

    @Test func badInputGivesOneLineErrors() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/run"
        try Self.expectCleanFailure(["transfer", "--density", "0", "--out", out], mentions: "--density")
        try Self.expectCleanFailure(["train", "--init", "random", "--density", "1.5", "--out", out],
                                    mentions: "--density")
        try Self.expectCleanFailure(["transfer", "--model", "lenet-9000", "--dataset", "synthetic", "--out", out],
                                    mentions: "lenet-9000")
        try Self.expectCleanFailure(["transfer", "--model", "dense(10),relu,sigmoid", "--dataset", "synthetic",
                                     "--out", out + "2"],
                                    mentions: "sigmoid")
        try Self.expectCleanFailure(["transfer", "--dataset", "imagenet", "--out", out], mentions: "imagenet")
        try Self.expectCleanFailure(["transfer", "--dataset", "mnist", "--out", out], mentions: "--data-dir")
        try Self.expectCleanFailure(["transfer", "--dataset", "mnist", "--data-dir", dir + "/nowhere", "--out", out],
                                    mentions: "not found in")
        try Self.expectCleanFailure(["train", "--init", "nonsense", "--dataset", "synthetic", "--out", out + "3"],
                                    mentions: "nonsense")
        try Self.expectCleanFailure(["bench", "--threads", "0"], mentions: "--threads")
        // Method names in lists: one line naming the flag and the choices.
        try Self.expectCleanFailure(["prune", "--method", "lottery", "--dataset", "synthetic", "--out", out],
                                    mentions: "--method: unknown method 'lottery'")
        try Self.expectCleanFailure(["demo", "--baselines", "lottery", "--dataset", "synthetic", "--out", out],
                                    mentions: "--baselines")
        try Self.expectCleanFailure(["experiment", "--initializations", "lottery", "--out", out],
                                    mentions: "--initializations")
        try FileManager.default.createDirectory(atPath: out + "4", withIntermediateDirectories: true)
        try Self.expectCleanFailure(["prune", "--method", "random", "--dataset", "synthetic", "--out", out + "4"],
                                    mentions: "already exists")
        // Nothing half-written by the failures above.
        #expect(!FileManager.default.fileExists(atPath: out + "/student.safetensors"))
        // A corrupt checkpoint.
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: dir + "/bad.safetensors"))
        try Self.expectCleanFailure(["kernel", "--checkpoint", dir + "/bad.safetensors", "--model", "lenet-300-100",
                                     "--dataset", "synthetic"],
                                    mentions: "bad.safetensors")
        // Without --model the file is read for its recorded model: the same error, not "records no model".
        try Self.expectCleanFailure(["kernel", "--checkpoint", dir + "/bad.safetensors", "--dataset", "synthetic"],
                                    mentions: "bad.safetensors: not a valid safetensors file")
    }

    @Test func pruneTrainTransferAndKernelOnSyntheticData() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = ["--model", "dense(32),relu,dense(10)", "--dataset", "synthetic", "--density", "0.1"]
        let prune = try Self.run(["prune", "--method", "snip", "--prune", "layerwise", "--out", dir + "/snip"] + model)
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(prune.stdout.contains("kept per layer: 2509/25088, 32/320"))
        // SNIP's own scope (the default, native) is global: round(0.1 · 25408) in all, not per layer.
        let native = try Self.run(["prune", "--method", "snip", "--out", dir + "/snip-native"] + model)
        let counts = native.stdout.split(separator: "\n").first { $0.hasPrefix("kept per layer: ") }!
            .dropFirst("kept per layer: ".count).split(separator: ",")
            .map { Int($0.trimmingCharacters(in: .whitespaces).split(separator: "/")[0])! }
        #expect(counts.reduce(0, +) == 2541 && counts != [2509, 32])
        let config = try String(contentsOfFile: dir + "/snip-native/config.json", encoding: .utf8)
        #expect(config.contains("\"prune\" : \"native\"") && config.contains("\"prune_scope\" : \"global\""))
        let train = try Self.run(["train", "--init", dir + "/snip", "--iterations", "40", "--evaluate-every", "20",
                                  "--out", dir + "/train"] + model)
        #expect(train.status == 0, "\(train.stderr)")
        let metrics = try String(contentsOfFile: dir + "/train/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 2 && metrics.last!.contains("\"final\":true")
                && metrics.last!.contains("test_accuracy"))
        let transfer = try Self.run(["transfer", "--iterations", "30", "--record-every", "10",
                                     "--mask-update-every", "10", "--out", dir + "/ntt"] + model)
        #expect(transfer.status == 0, "\(transfer.stderr)")
        for f in ["config.json", "metrics.jsonl", "student.safetensors", "teacher.safetensors", "probe.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/ntt/" + f), "\(f)")
        }
        let kernel = try Self.run(["kernel", "--checkpoint", dir + "/ntt",
                                   "--against", dir + "/ntt/teacher.safetensors",
                                   "--dataset", "synthetic", "--count", "8", "--out", dir + "/k.safetensors"])
        #expect(kernel.status == 0, "\(kernel.stderr)")
        #expect(kernel.stdout.contains("kernel [4, 4, 10, 10]") && kernel.stdout.contains("kernel distance"))
        let fromTransfer = try Self.run(["train", "--init", dir + "/ntt", "--iterations", "20",
                                         "--out", dir + "/train-ntt"] + model)
        #expect(fromTransfer.status == 0, "\(fromTransfer.stderr)")
    }

    /// Work is split between threads by shape only, so one and two threads write the same bytes
    /// (a conv model, so split products, split weight gradients and shared-out im2col all run).
    @Test func oneAndTwoThreadsWriteTheSameFiles() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = ["--model", "conv(8,5),relu,maxpool(2),flatten,dense(10)", "--dataset", "synthetic",
                     "--density", "0.2"]
        for threads in ["1", "2"] {
            let train = try Self.run(["train", "--init", "snip", "--iterations", "30", "--evaluate-every", "10",
                                      "--threads", threads, "--out", dir + "/train-" + threads] + model)
            #expect(train.status == 0, "\(train.stderr)")
            let transfer = try Self.run(["transfer", "--iterations", "12", "--record-every", "4",
                                         "--mask-update-every", "4", "--threads", threads,
                                         "--out", dir + "/transfer-" + threads] + model)
            #expect(transfer.status == 0, "\(transfer.stderr)")
        }
        for file in ["train-#/model.safetensors", "train-#/metrics.jsonl", "transfer-#/student.safetensors",
                     "transfer-#/metrics.jsonl"] {
            let one = FileManager.default.contents(atPath: dir + "/" + file.replacingOccurrences(of: "#", with: "1"))
            let two = FileManager.default.contents(atPath: dir + "/" + file.replacingOccurrences(of: "#", with: "2"))
            #expect(one != nil && one == two, "\(file) differs between 1 and 2 threads")
        }
    }

    @Test func demoWritesSummaryAndNeverReplacesAnEarlierOne() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["demo", "--dataset", "synthetic", "--model", "dense(16),relu,dense(10)",
                    "--transfer-iterations", "20", "--train-iterations", "20"]
        for folder in ["runs/demo", "runs/demo-2"] {
            let r = try Self.run(args, in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("| ntt |") && r.stdout.contains("| dense |")
                    && r.stdout.contains("NTK distance on the probe"))
            #expect(r.stdout.contains(folder + "/summary.md"))
            let summaryData = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + folder + "/summary.json"))
            let summary = try JSONSerialization.jsonObject(with: summaryData) as! [String: Any]
            let results = summary["results"] as! [String: [String: Any]]
            #expect(Set(results.keys) == ["ntt", "random", "snip", "dense"])
            #expect(results.values.allSatisfy { ($0["test_accuracy"] as? Double).map { $0 >= 0 && $0 <= 1 } ?? false })
            // Every initialisation's kernel distance at the start; the sparse ones against the dense run.
            #expect(r.stdout.contains("initial NTK distance") && r.stdout.contains("agreement with dense"))
            #expect(results.values.allSatisfy { $0["initial_ntk_distance"] is Double })
            #expect(results["dense"]?["initial_ntk_distance"] as? Double == 0 && results["dense"]?["agreement"] == nil)
            for name in ["ntt", "random", "snip"] {
                #expect((results[name]?["agreement"] as? Double).map { $0 >= 0 && $0 <= 1 } ?? false, "\(name)")
                #expect((results[name]?["output_distance"] as? Double).map { $0 > 0 } ?? false, "\(name)")
            }
        }
    }

    @Test func sigintCheckpointsAndExits() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A run far too long to finish before the signal.
        let r = try Self.run(["transfer", "--model", "dense(64),relu,dense(10)", "--dataset", "synthetic",
                              "--density", "0.1", "--iterations", "10000000", "--out", dir + "/run"],
                             interruptWhenExists: dir + "/run/metrics.jsonl")
        #expect(r.status == 130, "\(r.stderr)")
        #expect(r.stdout.contains("--resume"))
        #expect(FileManager.default.fileExists(atPath: dir + "/run/checkpoint.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/run/student.safetensors"))
    }

    @Test func interruptedTransferResumes() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["transfer", "--model", "dense(16),relu,dense(10)", "--dataset", "synthetic", "--density", "0.1",
                    "--iterations", "300", "--out", dir + "/run"]
        let first = try Self.run(args + ["--stop-after", "170"])
        #expect(first.status == 130, "\(first.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/run/student.safetensors"))
        let resumed = try Self.run(args + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let uninterrupted = try Self.run(args.dropLast() + [dir + "/reference"])
        #expect(uninterrupted.status == 0)
        for f in ["metrics.jsonl", "student.safetensors", "teacher.safetensors", "probe.safetensors", "config.json"] {
            #expect(FileManager.default.contents(atPath: dir + "/run/" + f)
                    == FileManager.default.contents(atPath: dir + "/reference/" + f), "\(f)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/run/checkpoint.safetensors"))
        let again = try Self.run(args + ["--resume"])
        #expect(again.status != 0 && again.stderr.contains("already finished"))
    }
}
