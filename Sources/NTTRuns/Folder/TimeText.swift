import Foundation
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
}
