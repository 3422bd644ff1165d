/// A table of text cells: rendered as Markdown and as HTML from the same values, and written
/// as CSV, each with its own escaping.
public struct ReportTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]] = []) { self.header = header; self.rows = rows }

    /// A Markdown pipe table. Cell text is escaped so that names cannot break the table or
    /// inject markup: `\`, `|`, `*`, `_`, backticks, brackets and `<` `>` `&` become literal.
    public var markdown: String {
        var text = "| " + header.map(Self.markdownEscaped).joined(separator: " | ") + " |\n"
        text += "|" + String(repeating: "---|", count: header.count) + "\n"
        for row in rows { text += "| " + row.map(Self.markdownEscaped).joined(separator: " | ") + " |\n" }
        return text
    }

    public var html: String {
        var text = "<table>\n<tr>" + header.map { "<th>\(HTMLText.escaped($0))</th>" }.joined() + "</tr>\n"
        for row in rows { text += "<tr>" + row.map { "<td>\(HTMLText.escaped($0))</td>" }.joined() + "</tr>\n" }
        return text + "</table>\n"
    }

    /// CSV as RFC 4180 quotes it (lines end in LF, as Unix tools expect): fields with a comma, quote, CR or LF
    /// are quoted (quotes doubled); a field that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
    /// CR first, and not a number) gets a leading `'`.
    public var csv: String {
        ([header] + rows).map { $0.map(Self.csvField).joined(separator: ",") + "\n" }.joined()
    }

    static func markdownEscaped(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\", "|", "*", "_", "`", "[", "]", "#": out += "\\" + String(c)
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\n", "\r": out += " "
            default: out.append(c)
            }
        }
        return out
    }

    static func csvField(_ s: String) -> String {
        var field = s
        if let first = field.first, "=+-@\t\r".contains(first), Double(field) == nil { field = "'" + field }
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
