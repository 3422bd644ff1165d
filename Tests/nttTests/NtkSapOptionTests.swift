import Foundation
import Testing

/// `--ntk-sap-resamples` on `prune`, `train` and `experiment`: recorded in config.json, and a
/// count below 1 is one line naming the flag.
struct NtkSapOptionTests {
    typealias CLI = CommandLineTests

    @Test func resamplesAreRecordedAndCheckedOnEveryCommand() throws {
        let dir = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = ["--model", "dense(8),relu,dense(10)", "--dataset", "synthetic", "--density", "0.2"]
        let prune = try CLI.run(["prune", "--method", "ntk-sap", "--ntk-sap-resamples", "2", "--out", dir + "/p"]
                                + model)
        #expect(prune.status == 0, "\(prune.stderr)")
        let config = try String(contentsOfFile: dir + "/p/config.json", encoding: .utf8)
        #expect(config.contains("\"ntk_sap_resamples\" : 2"), "\(config)")
        for count in ["0", "-1"] {
            let flag = "--ntk-sap-resamples=" + count  // `=`: a bare -1 would read as a flag
            try CLI.expectCleanFailure(["prune", "--method", "ntk-sap", flag, "--out", dir + "/q"] + model,
                                       mentions: "--ntk-sap-resamples must be a positive count, got \(count)")
            try CLI.expectCleanFailure(["train", "--init", "ntk-sap", flag, "--out", dir + "/t"] + model,
                                       mentions: "--ntk-sap-resamples must be a positive count, got \(count)")
            try CLI.expectCleanFailure(["experiment", flag, "--plan", "--out", dir + "/e"],
                                       mentions: "--ntk-sap-resamples must be a positive count, got \(count)")
        }
        for folder in ["/q", "/t", "/e"] { #expect(!FileManager.default.fileExists(atPath: dir + folder), "\(folder)") }
        let help = try CLI.run(["train", "--help"])
        #expect(help.stdout.contains("--ntk-sap-resamples"))
    }
}
