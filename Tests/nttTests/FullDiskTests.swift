import Foundation
import Testing

/// A full disk in the middle of a run: a one-line error and nothing left behind. The disk is a
/// 300 KB tmpfs mounted by the test, so it needs root (CI runs as root); elsewhere it is skipped.
struct FullDiskTests {
    typealias CLI = CommandLineTests

    static func shell(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func aFullDiskLeavesNothing() throws {
        let disk = CLI.temporaryDirectory()
        defer { _ = Self.shell("umount '\(disk)'"); try? FileManager.default.removeItem(atPath: disk) }
        guard Self.shell("mount -t tmpfs -o size=300k tmpfs '\(disk)'") == 0 else {
            Issue.record("cannot mount a tmpfs at \(disk) although running as root")
            return
        }
        // The probe alone (64 images of 28×28 floats) is 200 KB; teacher and student do not fit after it.
        let model = ["--model", "dense(64),relu,dense(10)", "--dataset", "synthetic", "--density", "0.1"]
        try CLI.expectCleanFailure(["transfer", "--iterations", "5", "--out", disk + "/t"] + model, mentions: disk)
        try CLI.expectCleanFailure(["train", "--init", "random", "--iterations", "5", "--out", disk + "/r",
                                    "--model", "dense(2000),relu,dense(10)", "--dataset", "synthetic"], mentions: disk)
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk).isEmpty)
    }
}
