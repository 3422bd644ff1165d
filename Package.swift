// swift-tools-version: 6.0
import PackageDescription

// Layering (see ARCHITECTURE.md): kernels → differentiable ops and tape → layers/models →
// the method (NTK, transfer, pruning, training, data, checkpoints) → runs and orchestration → the CLI.
let package = Package(
    name: "NeuralTangentTransfer",
    products: [
        .executable(name: "ntt", targets: ["ntt"]),
        .library(name: "NeuralTangentTransfer", targets: ["NeuralTangentTransfer", "NTTRuns"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "NTTKernels", dependencies: ["CBLAS", "CMalloc"]),
        .target(name: "NTTAutodiff", dependencies: ["NTTKernels"]),
        .target(name: "NTTLayers", dependencies: ["NTTAutodiff"]),
        .target(name: "NeuralTangentTransfer",
                dependencies: ["NTTLayers", "NTTAutodiff", "NTTKernels", "CZlib"]),
        // Runs and orchestration: run folders, transfer/training/kernel/demo runs, experiments, reports.
        .target(name: "NTTRuns", dependencies: ["NeuralTangentTransfer", "NTTKernels"]),
        .executableTarget(name: "ntt", dependencies: [
            "NTTRuns",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "NTTKernelsTests", dependencies: ["NTTKernels"]),
        .testTarget(name: "NTTAutodiffTests", dependencies: ["NTTAutodiff", "NTTKernels"]),
        .testTarget(name: "NTTLayersTests", dependencies: ["NTTLayers", "NTTKernels"]),
        .testTarget(name: "NeuralTangentTransferTests", dependencies: ["NeuralTangentTransfer", "NTTKernels"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "NTTRunsTests", dependencies: ["NTTRuns", "NTTKernels"]),
        .testTarget(name: "nttTests", dependencies: ["ntt"]),
    ]
)
