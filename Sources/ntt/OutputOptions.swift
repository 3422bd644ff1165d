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

    /// Creates the folder for a new run; refuses an existing one unless --overwrite.
    func create() throws -> RunFolder { try RunFolder.create(url, overwrite: overwrite) }
}
