import Foundation

/// A line chart as a self-contained SVG: labelled axes with round ticks (linear or log),
/// optional error bars, dashed reference lines and a legend beside the plot.
public struct SVGPlot: Sendable {
    public struct Point: Sendable, Equatable {
        public var x: Double, y: Double
        /// Half-height of an error bar (e.g. one standard deviation), if any.
        public var error: Double?
        public init(x: Double, y: Double, error: Double? = nil) { self.x = x; self.y = y; self.error = error }
    }

    public struct Series: Sendable {
        public var name: String
        public var points: [Point]
        public var dashed: Bool
        public var markers: Bool
        /// Index into the palette (default: the series' position), so related series can share a colour.
        public var color: Int?
        public init(name: String, points: [Point], dashed: Bool = false, markers: Bool = true, color: Int? = nil) {
            self.name = name; self.points = points; self.dashed = dashed; self.markers = markers; self.color = color
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xLog = false
    public var yLog = false
    public var series: [Series] = []
    /// Upper end of the y axis at most (e.g. 100 for percentages).
    public var yLimit: Double? = nil
    public var width = 640.0
    public var height = 380.0

    public init(title: String, xLabel: String, yLabel: String, xLog: Bool = false, yLog: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.xLog = xLog; self.yLog = yLog
    }

    /// Tableau 10: distinguishable, colour-blind-friendlier than defaults.
    public static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                 "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    public func render() -> String {
        let legendWidth = 150.0
        let left = 64.0, right = width - legendWidth, top = 34.0, bottom = height - 48.0
        let points = series.flatMap(\.points).filter(plottable)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
        svg += "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(f(width / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">"
            + "\(HTMLText.escaped(title))</text>\n"
        guard !points.isEmpty else {
            return svg + "<text x=\"\(f(width / 2))\" y=\"\(f(height / 2))\" text-anchor=\"middle\" fill=\"#888\">"
                + "no data yet</text>\n</svg>\n"
        }
        let lows = points.map { $0.y - ($0.error ?? 0) }, highs = points.map { $0.y + ($0.error ?? 0) }
        let xAxis = Axis(low: points.map(\.x).min()!, high: points.map(\.x).max()!, log: xLog)
        let yAxis = Axis(low: yLog ? points.map(\.y).min()! : lows.min()!,
                         high: yLog ? points.map(\.y).max()! : highs.max()!, log: yLog, limit: yLimit)
        func px(_ x: Double) -> Double { left + xAxis.fraction(x) * (right - left) }
        func py(_ y: Double) -> Double { bottom - yAxis.fraction(y) * (bottom - top) }

        // Grid, ticks and labels.
        for t in xAxis.ticks {
            svg += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(bottom))\" "
                + "stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(f(px(t)))\" y=\"\(f(bottom + 16))\" text-anchor=\"middle\">\(Axis.label(t))</text>\n"
        }
        for t in yAxis.ticks {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(right))\" y2=\"\(f(py(t)))\" "
                + "stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(Axis.label(t))</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" "
            + "fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">"
            + "\(HTMLText.escaped(xLabel))</text>\n"
        svg += "<text transform=\"translate(16 \(f((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">"
            + "\(HTMLText.escaped(yLabel))</text>\n"

        // Series.
        for (i, s) in series.enumerated() {
            let color = Self.palette[(s.color ?? i) % Self.palette.count]
            let visible = s.points.filter(plottable).sorted { $0.x < $1.x }
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            if visible.count > 1 {
                let path = visible.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            }
            for p in visible {
                if let e = p.error, e > 0 {
                    let y1 = py(yLog ? max(p.y - e, yAxis.lowValue) : p.y - e), y2 = py(p.y + e), x = px(p.x)
                    svg += "<path d=\"M\(f(x)) \(f(y1))V\(f(y2))M\(f(x - 4)) \(f(y1))h8M\(f(x - 4)) \(f(y2))h8\" "
                        + "stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
                }
                if s.markers || visible.count == 1 {
                    svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3.5\" fill=\"\(color)\"/>\n"
                }
            }
            // Legend entry.
            let ly = top + 8 + Double(i) * 20
            svg += "<line x1=\"\(f(right + 14))\" y1=\"\(f(ly))\" x2=\"\(f(right + 38))\" y2=\"\(f(ly))\" "
                + "stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            svg += "<text x=\"\(f(right + 44))\" y=\"\(f(ly + 4))\">\(HTMLText.escaped(s.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Whether a point can be drawn: finite, and on a log axis within 1e-100…1e100 (beyond that
    /// the padded axis ends under- or overflow, and such values mean a corrupt input anyway).
    func plottable(_ p: Point) -> Bool {
        func ok(_ v: Double, _ log: Bool) -> Bool { v.isFinite && (!log || (v >= 1e-100 && v <= 1e100)) }
        return ok(p.x, xLog) && ok(p.y, yLog)
    }

    /// An axis range padded to round ticks: 1-2-5 steps (linear) or decades with 2 and 5 (log).
    struct Axis {
        let log: Bool
        let lowValue: Double, highValue: Double
        let ticks: [Double]

        init(low: Double, high: Double, log: Bool, limit: Double? = nil) {
            self.log = log
            if log {
                var lo = Foundation.log10(low), hi = Foundation.log10(high)
                if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
                let candidates = (Int(floor(lo)) ... Int(ceil(hi))).flatMap { e in
                    [1.0, 2, 5].map { $0 * pow(10, Double(e)) }
                }
                var ticks = candidates.filter { Foundation.log10($0) >= lo - 1e-9 && Foundation.log10($0) <= hi + 1e-9 }
                if ticks.count > 7 { ticks = ticks.filter { Foundation.log10($0).rounded() == Foundation.log10($0) } }
                if ticks.count < 2 { ticks = [low, high] }
                let pad = (hi - lo) * 0.06
                lowValue = pow(10, lo - pad); highValue = pow(10, hi + pad)
                self.ticks = ticks
            } else {
                var lo = low, hi = high
                if hi - lo < 1e-12 { lo -= max(abs(lo) * 0.1, 1e-3); hi += max(abs(hi) * 0.1, 1e-3) }
                let raw = (hi - lo) / 5
                let magnitude = pow(10, floor(Foundation.log10(raw)))
                let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw }!
                let first = (lo / step).rounded(.down) * step, last = (hi / step).rounded(.up) * step
                lowValue = first; highValue = limit.map { min(last, max($0, hi)) } ?? last
                ticks = stride(from: first, through: highValue + step * 1e-6, by: step).map {
                    Double(String(format: "%.12g", ($0 / step).rounded() * step))!
                }
            }
        }

        func fraction(_ v: Double) -> Double {
            log ? (Foundation.log10(v) - Foundation.log10(lowValue))
                    / (Foundation.log10(highValue) - Foundation.log10(lowValue))
                : (v - lowValue) / (highValue - lowValue)
        }

        static func label(_ v: Double) -> String {
            if v == 0 { return "0" }
            if abs(v) >= 1e5 || abs(v) < 1e-3 { return String(format: "%.0e", v) }
            var s = String(format: "%.4f", v)
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
            return s
        }
    }
}
