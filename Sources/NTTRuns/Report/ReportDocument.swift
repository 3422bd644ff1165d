/// A report as a list of blocks, rendered to Markdown and to a self-contained HTML page from
/// the same values (never one from the other).
public struct ReportDocument: Sendable {
    public enum Block: Sendable {
        case heading(level: Int, text: String)
        case paragraph(String)
        case table(ReportTable)
        /// An SVG figure: its file (for Markdown links) and its source (inlined in HTML).
        case figure(title: String, file: String, svg: String)
    }

    public var title: String
    public var blocks: [Block] = []

    public init(title: String) { self.title = title }

    public var markdown: String {
        var text = "# \(ReportTable.markdownEscaped(title))\n\n"
        for block in blocks {
            switch block {
            case .heading(let level, let t):
                text += String(repeating: "#", count: level) + " " + ReportTable.markdownEscaped(t) + "\n\n"
            case .paragraph(let t): text += ReportTable.markdownEscaped(t) + "\n\n"
            case .table(let table): text += table.markdown + "\n"
            case .figure(let t, let file, _): text += "![\(ReportTable.markdownEscaped(t))](\(file))\n\n"
            }
        }
        return text
    }

    public var html: String {
        var body = "<h1>\(HTMLText.escaped(title))</h1>\n"
        for block in blocks {
            switch block {
            case .heading(let level, let t): body += "<h\(level)>\(HTMLText.escaped(t))</h\(level)>\n"
            case .paragraph(let t): body += "<p>\(HTMLText.escaped(t))</p>\n"
            case .table(let table): body += table.html
            case .figure(_, _, let svg): body += "<figure>\(svg)</figure>\n"
            }
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(HTMLText.escaped(title))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; max-width: 980px; \
        margin: 2em auto; padding: 0 1em; color: #222; }
        table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 14px; }
        th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
        th { background: #f3f3f3; } figure { margin: 1em 0; }
        </style></head><body>
        \(body)</body></html>

        """
    }
}
