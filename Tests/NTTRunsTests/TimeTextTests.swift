import Testing
@testable import NTTRuns

struct TimeTextTests {
    @Test func durationsAsPeopleWriteThem() throws {
        let cases: [(String, Double)] = [("90m", 5400), ("2h", 7200), ("1h30m", 5400), ("45s", 45), ("5400", 5400),
                                         ("1h0m30s", 3630), ("1:30:00", 5400), ("90:00", 5400), (" 2H ", 7200)]
        for (text, seconds) in cases {
            #expect(try TimeText.seconds(parsing: text, flag: "--time-limit") == seconds, "\(text)")
        }
    }

    @Test func otherTextIsRefusedNamingTheFlag() {
        let refused = ["", "0", "0s", "abc", "1h30", "30m1h", "1hh", "1h1h", "1m30s2h", "h", "-5m", "1.5h",
                       "1:2:3:4", "1::2", "10000000000"]
        for text in refused {
            #expect(throws: (any Error).self, "\(text)") { try TimeText.seconds(parsing: text, flag: "--time-limit") }
        }
        do {
            _ = try TimeText.seconds(parsing: "1x", flag: "--time-limit")
            Issue.record("1x was accepted")
        } catch {
            #expect("\(error)".contains("--time-limit") && "\(error)".contains("'1x'"))
        }
    }
}
