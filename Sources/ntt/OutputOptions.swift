import ArgumentParser
import Foundation
import NTTRuns

/// Where results go.
struct OutputOptions: ParsableArguments {
    @Option(help: "Output folder (created; must not exist unless --overwrite).")
    var out: String

    @Flag(help: "Replace the output folder if it exists.")
    var overwrite = false

    var url: URL { URL(fileURLWithPath: out) }

    /// The folder of a new run (made when the run starts writing); refuses an existing one unless
    /// --overwrite. `resumable` commands suggest --resume in that refusal.
    func create(resumable: Bool = false) throws -> RunFolder {
        try RunFolder.create(url, overwrite: overwrite, resumable: resumable)
    }
}
