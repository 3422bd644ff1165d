import Foundation
import Testing

/// What `ntt` may do to files it did not write, and what a failed or killed run leaves: a
/// one-line error, a non-zero exit, the output as it was before the command.
struct OutputSafetyTests {
    typealias CLI = CommandLineTests
    static let synthetic = ["--dataset", "synthetic", "--model", "dense(16),relu,dense(10)", "--density", "0.1"]

    static func listing(_ path: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []).sorted()
    }

    @Test func overwriteRemovesOnlyRunFolders() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A user's folder with their own file in it, and the working folder itself.
        let mine = dir + "/mine"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: mine + "/notes.txt"))
        let prune = ["prune", "--method", "random"] + Self.synthetic
        try CLI.expectCleanFailure(prune + ["--out", mine, "--overwrite"], mentions: "not a folder ntt wrote")
        #expect(FileManager.default.fileExists(atPath: mine + "/notes.txt"))
        let r = try CLI.run(prune + ["--out", ".", "--overwrite"], in: mine)
        #expect(r.status != 0 && r.stderr.contains("working folder"), "\(r.stderr)")
        #expect(Self.listing(mine) == ["notes.txt"])
        // Not a folder at all: a regular file and a device.
        try CLI.expectCleanFailure(prune + ["--out", mine + "/notes.txt", "--overwrite"], mentions: "is not a folder")
        try CLI.expectCleanFailure(prune + ["--out", "/dev/null", "--overwrite"], mentions: "is not a folder")
        #expect(FileManager.default.fileExists(atPath: "/dev/null"))
        // A run folder is replaced, but only after the new command's settings are valid.
        let run = dir + "/run"
        #expect(try CLI.run(prune + ["--out", run]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: run + "/init.safetensors"))
        // Each command's hint names only the flags it has: prune has no --resume, transfer has.
        let refused = try CLI.run(prune + ["--out", run])
        #expect(refused.status != 0 && refused.stderr.contains("--overwrite") && !refused.stderr.contains("--resume"))
        let refusedTransfer = try CLI.run(["transfer", "--iterations", "2", "--out", run] + Self.synthetic)
        #expect(refusedTransfer.status != 0 && refusedTransfer.stderr.contains("--resume"))
        try CLI.expectCleanFailure(["transfer", "--model", "dense(10", "--dataset", "synthetic", "--out", run,
                                    "--overwrite"],
                                   mentions: "dense(10")
        try CLI.expectCleanFailure(prune + ["--out", run, "--overwrite", "--density", "2"], mentions: "--density")
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/init.safetensors")) == before)
        let again = try CLI.run(prune + ["--out", run, "--overwrite", "--seed", "1"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/init.safetensors")) != before)
    }

    @Test func kernelOutputNeverReplacesWhatItShouldNot() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try CLI.run(["prune", "--method", "random", "--out", dir + "/p"] + Self.synthetic).status == 0)
        let existing = dir + "/k.safetensors"
        try Data("someone's file".utf8).write(to: URL(fileURLWithPath: existing))
        let kernel = ["kernel", "--checkpoint", dir + "/p", "--dataset", "synthetic", "--count", "4"]
        try CLI.expectCleanFailure(kernel + ["--out", existing], mentions: "already exists")
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "someone's file")
        try CLI.expectCleanFailure(kernel + ["--out", "/dev/null", "--overwrite"], mentions: "only regular files")
        try CLI.expectCleanFailure(kernel + ["--out", dir + "/nowhere/k.safetensors"], mentions: "does not exist")
        #expect(try CLI.run(kernel + ["--out", existing, "--overwrite"]).status == 0)
    }

    @Test func failedRunsLeaveNothing() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.expectCleanFailure(["train", "--init", "random", "--lr", "nan", "--out", dir + "/a"] + Self.synthetic,
                                   mentions: "--lr")
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: dir + "/bad.safetensors"))
        try CLI.expectCleanFailure(["train", "--init", dir + "/bad.safetensors", "--out", dir + "/b"] + Self.synthetic,
                                   mentions: "bad.safetensors")
        // Diverges at once: the transfer stops with an error and removes what it had started.
        try CLI.expectCleanFailure(["transfer", "--lr", "1e30", "--iterations", "50", "--out", dir + "/c"]
                                   + Self.synthetic,
                                   mentions: "--lr")
        #expect(Self.listing(dir) == ["bad.safetensors"])
    }

    /// SIGKILL before the first checkpoint: --resume starts again from iteration 0 and ends with
    /// the bytes of an uninterrupted run; a temporary file left by a killed write is removed.
    @Test func killedTransferResumesFromTheStart() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let transfer = ["transfer", "--iterations", "300", "--record-every", "10", "--threads", "1"] + Self.synthetic
        #expect(try CLI.run(transfer + ["--out", dir + "/whole"]).status == 0)

        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = transfer + ["--out", dir + "/killed"]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: dir + "/killed/metrics.jsonl") && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: dir + "/killed/checkpoint.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/killed/student.safetensors"))
        try Data("half".utf8).write(to: URL(fileURLWithPath: dir + "/killed/.checkpoint.safetensors.tmp-999999"))

        let resumed = try CLI.run(transfer + ["--out", dir + "/killed", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        for file in ["metrics.jsonl", "student.safetensors", "teacher.safetensors", "probe.safetensors"] {
            #expect(FileManager.default.contents(atPath: dir + "/whole/" + file)
                    == FileManager.default.contents(atPath: dir + "/killed/" + file), "\(file)")
        }
        #expect(!Self.listing(dir + "/killed").contains { $0.contains(".tmp-") })
        // Resuming with other settings is refused.
        try CLI.expectCleanFailure(transfer + ["--out", dir + "/whole", "--resume"], mentions: "already finished")
    }

    @Test func oneWriterPerRunFolder() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let transfer = ["transfer", "--iterations", "100000", "--threads", "1"] + Self.synthetic + ["--out", dir + "/m"]
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = transfer
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: dir + "/m/metrics.jsonl") && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        try CLI.expectCleanFailure(["transfer", "--iterations", "10", "--seed", "1"] + Self.synthetic
                                   + ["--out", dir + "/m", "--overwrite"],
                                   mentions: "being written by another ntt process")
        try CLI.expectCleanFailure(transfer + ["--resume"], mentions: "being written by another ntt process")
        #expect(process.isRunning)
    }
}
