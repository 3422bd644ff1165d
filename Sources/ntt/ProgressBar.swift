import Foundation
import NTTRuns
#if canImport(Glibc)
import Glibc
#endif

/// Progress on stderr: one redrawn line with a bar, rate and ETA on a terminal; plain lines
/// every ~10 s (and at the end) otherwise, so logs stay readable.
final class ProgressBar {
    var total: Int { didSet { total = max(total, 1) } }
    let label: String
    let start = Date()
    let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var lastDone = 0
    /// The first update: rates count from it, so a run resumed at iteration 7,000 is not credited
    /// with 7,000 iterations in its first second.
    private var first: (done: Int, time: Date)?

    init(total: Int, label: String) { self.total = max(total, 1); self.label = label }

    func update(_ done: Int, status: String = "") {
        lastDone = done
        let now = Date()
        if first == nil { first = (done, now) }
        let interval = isTerminal ? 0.1 : 10
        guard now.timeIntervalSince(lastDraw) >= interval || done == total else { return }
        lastDraw = now
        FileHandle.standardError.write(Data(line(done, status: status, now: now).utf8))
    }

    func line(_ done: Int, status: String, now: Date) -> String {
        let from = first ?? (0, start)
        let elapsed = now.timeIntervalSince(from.time)
        let rate = elapsed >= 0.5 ? Double(done - from.done) / elapsed : 0  // no rate from the first instants
        let eta = rate > 0 ? Double(total - done) / rate : .nan
        let fraction = Double(done) / Double(total)
        // Slow steps (a CNN transfer takes seconds each) read better as seconds per iteration.
        let rateText = rate <= 0 ? "-- it/s"
            : rate < 1 ? String(format: "%.1f s/it", 1 / rate) : String(format: "%.1f it/s", rate)
        let statusSuffix = status.isEmpty ? "" : " " + status
        let text = "\(label) \(done)/\(total) \(rateText) ETA \(TimeText.clock(eta))\(statusSuffix)"
        if isTerminal {
            let width = 24, filled = Int(fraction * Double(width))
            return "\r\u{1B}[2K[" + String(repeating: "█", count: filled)
                + String(repeating: "·", count: width - filled) + "] " + text
        }
        return String(format: "%3.0f%% ", fraction * 100) + text + "\n"
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
