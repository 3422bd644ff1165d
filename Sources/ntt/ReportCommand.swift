import ArgumentParser
import Foundation
import NTTRuns

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Aggregate an experiment's finished cells into report.md, report.html, figures/, "
            + "results.csv and results.json.",
        discussion: """
        Reads every cells/**/done.json under DIR, so cells run on other machines (copied or on a \
        shared file system) are included; unfinished cells are ignored. Safe to run while the \
        experiment is still running.
        """)

    @Argument(help: "Experiment folder.") var directory: String

    func run() throws {
        let root = URL(fileURLWithPath: directory)
        guard FileManager.default.fileExists(atPath: ExperimentLayout(root: root).cellsRoot.path) else {
            throw NTTError("\(root.path) has no cells/ folder; is it an experiment folder (ntt experiment --out)?")
        }
        let report = try ExperimentReport(root: root)
        let url = try report.write()
        print(report.accuracyTable())
        print("report: \(url.path) (and report.md, figures/, results.csv, results.json)")
    }
}
