import Foundation
import Testing

/// `ntt transfer --pruned-updates`: explained in `--help`, recorded in config.json, checked.
struct PrunedUpdatesOptionTests {
    typealias CLI = CommandLineTests

    @Test func modeIsExplainedRecordedAndChecked() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let help = try CLI.run(["transfer", "--help"]).stdout
        for mode in ["momentum:", "frozen:", "dense:"] { #expect(help.contains(mode), "\(mode)") }
        let model = ["--model", "dense(8),relu,dense(10)", "--dataset", "synthetic", "--iterations", "4",
                     "--record-every", "2"]
        let run = try CLI.run(["transfer", "--pruned-updates", "frozen", "--out", dir + "/f"] + model)
        #expect(run.status == 0, "\(run.stderr)")
        let config = try String(contentsOfFile: dir + "/f/config.json", encoding: .utf8)
        #expect(config.contains("\"pruned_updates\" : \"frozen\""), "\(config)")
        let bad = try CLI.run(["transfer", "--pruned-updates", "sometimes", "--out", dir + "/b"] + model)
        #expect(bad.status != 0)
        let first = bad.stderr.split(separator: "\n").first ?? ""
        #expect(first.contains("--pruned-updates") && first.contains("momentum"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/b"))
    }
}
