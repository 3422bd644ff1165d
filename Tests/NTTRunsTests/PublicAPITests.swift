import Foundation
import Testing
import NTTRuns  // deliberately not @testable: only what a package user can call

/// The library as a Swift user sees it: a tiny transfer and a training from its student, through
/// the public API only (the README's example does the same on Fashion-MNIST).
struct PublicAPITests {
    @Test func transferThenTrainingThroughThePublicAPI() throws {
        var options = SyntheticDataset.Options()
        options.imageShape = [6, 6, 1]; options.classes = 3; options.trainCount = 1200; options.testCount = 60
        let dataset = DatasetLoader.standardised(SyntheticDataset.make(options))
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ntt-api-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }

        var transferConfig = TransferConfig()  // the SPEC defaults, on a tiny model and budget
        transferConfig.model = "dense(12),relu,dense(3)"; transferConfig.dataset = "synthetic"
        transferConfig.density = 0.3; transferConfig.iterations = 30
        transferConfig.batchSize = 8; transferConfig.validationFraction = 0.02
        let transferFolder = try RunFolder.create(root.appendingPathComponent("transfer"), overwrite: false)
        let transfer = try TransferRun(config: transferConfig, dataset: dataset, folder: transferFolder)
        #expect(try transfer.run() == .finished)
        let records = try transfer.records()
        #expect(records.first!.iteration == 0 && records.last!.iteration == 30)
        #expect(records.last!.ntkDistance < records.first!.ntkDistance)

        var training = TrainConfig()
        training.model = transferConfig.model
        training.dataset = "synthetic"
        training.density = 0.3
        training.iterations = 60
        training.batchSize = 8
        let initialization = try Initialization(parsing: transferFolder.path)
        #expect(initialization == .transferRun(transferFolder.path))
        let run = try TrainingRun(config: TrainingRunConfig(initialization: initialization, training: training))
        let trainFolder = try RunFolder.create(root.appendingPathComponent("train"), overwrite: false)
        let outcome = try run.run(dataset: dataset, folder: trainFolder)
        #expect(outcome.record.final && outcome.record.iteration == 60)
        #expect(outcome.record.testAccuracy > 1.0 / 3)  // better than chance on 3 separable classes
        // The student's layer-wise budget is what the trained model keeps.
        #expect(outcome.keptPerLayer == [Int((0.3 * 36 * 12).rounded()), Int((0.3 * 12 * 3).rounded())])
        let saved = try ModelCheckpoint.load(trainFolder.file(TrainingRun.outputName).path, model: transfer.model)
        let student = try ModelCheckpoint.load(transferFolder.file(TransferRun.studentName).path, model: transfer.model)
        #expect(saved.masks!.map(\.scalars) == student.masks!.map(\.scalars))
        // config.json is one flat object in the snake_case convention, recording the typed initialisation.
        let configData = try Data(contentsOf: trainFolder.file("config.json"))
        let config = try JSONSerialization.jsonObject(with: configData) as! [String: Any]
        #expect((config["initialization"] as? [String: String])?["transfer_run"] == transferFolder.path)
        #expect(config["evaluate_every"] as? Int == 100 && config["kept_per_layer"] != nil
                && config["tool_version"] != nil)
    }
}
