import Testing
@testable import NTTRuns

struct CellTimesTests {
    private func cell(_ kind: ExperimentCell.Kind, seed: UInt64 = 0) -> ExperimentCell {
        ExperimentCell(kind: kind, model: "lenet5-caffe", dataset: "fashion-mnist", density: 0.03,
                       initialization: .ntt, seed: seed)
    }

    @Test func eachKindIsEstimatedFromItsOwnMean() {
        var times = CellTimes()
        times.add(.transfer, seconds: 2000)
        times.add(.transfer, seconds: 2200)
        times.add(.train, seconds: 300)
        // 2 transfers at 2100 s + 4 training cells at 300 s, 2 at a time: 5400 / 2 = 2700 s.
        let remaining = [cell(.transfer), cell(.transfer, seed: 1)] + (0..<4).map { cell(.train, seed: $0) }
        #expect(times.estimate(remaining: remaining, jobs: 2) == "about 45:00 left")
    }

    @Test func kindsNotYetTimedAreNamedNotGuessed() {
        var times = CellTimes()
        times.add(.transfer, seconds: 1800)
        let remaining = [cell(.transfer)] + (0..<3).map { cell(.train, seed: $0) }
        #expect(times.estimate(remaining: remaining, jobs: 1) == "about 30:00 left + 3 training cells not yet timed")
        #expect(times.estimate(remaining: [cell(.train)], jobs: 1) == "time left unknown")
        #expect(CellTimes().estimate(remaining: [], jobs: 1) == "about 00:00 left")
    }

    @Test func aCellFitsWhenItsKindsMeanDoes() {
        var times = CellTimes()
        times.add(.train, seconds: 200)
        times.add(.train, seconds: 400)
        #expect(times.fits(.train, within: 300) && !times.fits(.train, within: 299))
        #expect(times.fits(.transfer, within: 1))  // not yet timed: started
    }
}
