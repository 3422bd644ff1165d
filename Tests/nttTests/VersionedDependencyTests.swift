import Foundation
import Testing

/// Another package can depend on this one by version, as users' packages do.
///
/// SwiftPM refuses a package with `unsafeFlags` in any target as a versioned dependency ("the
/// target … contains unsafe build flags"); only root packages and local or branch dependencies may
/// use them. This test clones the repository's committed HEAD into a temporary folder, tags it
/// `0.1.0`, writes a small consumer package that depends on it with `from: "0.1.0"`, builds the
/// consumer (one debug build of the library) and runs it: the program builds a model, applies it
/// and max-pools a tensor through the public API only. Uncommitted changes are not part of the
/// clone. Dependencies resolve as for any build of this package (offline when git redirects
/// their URLs to local mirrors).
struct VersionedDependencyTests {
    /// The package's root folder (this file is Tests/nttTests/…).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// An executable found on PATH.
    static func tool(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `tool` with `arguments`; returns its exit status and its stdout and stderr together.
    static func run(_ tool: URL, _ arguments: [String], temporaryDirectory: URL? = nil) throws
        -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        if let temporaryDirectory {
            // SwiftPM puts lock files next to the scratch folder's name in $TMPDIR: keep them in ours.
            process.environment = ProcessInfo.processInfo.environment
                .merging(["TMPDIR": temporaryDirectory.path]) { $1 }
        }
        // Output goes to a file: a full pipe would block a long build.
        let log = FileManager.default.temporaryDirectory
            .appendingPathComponent("ntt-consumer-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: log), as: UTF8.self))
    }

    @Test(.enabled(if: tool("git") != nil && tool("swift") != nil,
                   "needs git and swift on PATH to clone this package and build a consumer of it"),
          .timeLimit(.minutes(30)))
    func aConsumerBuildsAgainstATaggedRelease() throws {
        let git = try #require(Self.tool("git")), swift = try #require(Self.tool("swift"))
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("ntt-consumer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }

        // The clone's folder name is the package identity the consumer refers to.
        let clone = temporary.appendingPathComponent("NeuralTangentTransfer")
        let head = try Self.run(git, ["-C", Self.root.path, "rev-parse", "HEAD"])
        try #require(head.status == 0, "git rev-parse HEAD: \(head.output)")
        let commit = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
        for step in [["clone", "--quiet", "--no-checkout", Self.root.path, clone.path],
                     ["-C", clone.path, "checkout", "--quiet", "--detach", commit],
                     ["-C", clone.path, "tag", "0.1.0", commit]] {
            let result = try Self.run(git, step)
            try #require(result.status == 0, "git \(step.joined(separator: " ")): \(result.output)")
        }

        let consumer = temporary.appendingPathComponent("Consumer")
        let sources = consumer.appendingPathComponent("Sources/Consumer")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        try """
        // swift-tools-version: 6.0
        import PackageDescription

        let package = Package(
            name: "Consumer",
            dependencies: [.package(url: "\(clone.absoluteString)", from: "0.1.0")],
            targets: [
                .executableTarget(name: "Consumer", dependencies: [
                    .product(name: "NeuralTangentTransfer", package: "NeuralTangentTransfer"),
                ]),
            ]
        )

        """.write(to: consumer.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try """
        import NeuralTangentTransfer

        let model = try Model(spec: ModelSpec.resolve("lenet5-caffe", classes: 10), imageShape: [28, 28, 1])
        let images = Tensor(repeating: 0.5, shape: [2, 28, 28, 1])
        let outputs = Threads.withBudget(1) { model.apply(model.initialize(seed: 1), to: model.prepare(images)) }
        let pooled = Tensor(shape: [1, 2, 2, 1], scalars: [1, 4, 2, 3]).maxPool(window: (2, 2), padding: .valid)
        print("outputs \\(outputs.shape), max-pool \\(pooled.scalars)")

        """.write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)

        let scratch = temporary.appendingPathComponent("build")
        let build = try Self.run(swift, ["build", "--package-path", consumer.path, "--scratch-path", scratch.path,
                                         "--cache-path", temporary.appendingPathComponent("cache").path],
                                 temporaryDirectory: temporary)
        try #require(build.status == 0, "the consumer does not build against the tagged clone:\n\(build.output)")
        let program = try Self.run(scratch.appendingPathComponent("debug/Consumer"), [])
        #expect(program.status == 0, "the consumer failed: \(program.output)")
        #expect(program.output.contains("outputs [2, 10], max-pool [4.0]"), "unexpected output: \(program.output)")
    }
}
