import Foundation
import NeuralTangentTransfer

/// Durations as people read them in progress lines.
public enum TimeText {
    /// `mm:ss`, or `h:mm:ss` from an hour on; `--:--` when unknown.
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%02d:%02d", s / 60, s % 60)
    }

    /// Seconds in a duration as people write them for a time limit: `90m`, `2h`, `1h30m`, `45s`,
    /// `5400` (seconds), or Slurm's `h:mm:ss` and `mm:ss`. Throws a one-line error naming `flag`.
    public static func seconds(parsing text: String, flag: String) throws -> Double {
        let bad = NTTError("\(flag) must be a duration such as 90m, 2h30m, 45s or 1:30:00, got '\(text)'")
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        var total = 0.0
        if trimmed.contains(":") {
            let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy(\.isASCIIDigit) })
            else { throw bad }
            for part in parts { total = total * 60 + Double(part)! }
        } else {
            guard !trimmed.isEmpty else { throw bad }
            let units: [(unit: Character, scale: Double)] = [("h", 3600), ("m", 60), ("s", 1)]
            var number = "", next = 0  // the first unit still allowed
            for character in trimmed {
                if character.isASCIIDigit {
                    number.append(character)
                    guard number.count <= 9 else { throw bad }
                } else {
                    // Each unit once, largest first, each after a number: 1h30m, not 30m1h, 1h1h or h.
                    guard !number.isEmpty, let u = units[next...].firstIndex(where: { $0.unit == character })
                    else { throw bad }
                    total += Double(number)! * units[u].scale
                    number = ""
                    next = u + 1
                }
            }
            if !number.isEmpty {
                guard next == 0 else { throw bad }  // "1h30" is ambiguous
                total = Double(number)!
            }
        }
        guard total > 0 else { throw NTTError("\(flag) must be longer than zero, got '\(text)'") }
        return total
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
