import Testing
@testable import NTTRuns

struct RankCorrelationTests {
    @Test func tiesShareTheirMeanRank() {
        #expect(RankCorrelation.ranks([10, 30, 20, 30]) == [1, 3.5, 2, 3.5])
    }

    /// Values from `scipy.stats.spearmanr` (SciPy 1.17): [1, 2, 3, 4, 5] vs [5, 6, 7, 8, 7] → 0.8207826816681233;
    /// monotone → 1; reversed → −1.
    @Test func matchesScipy() throws {
        let rho = try #require(RankCorrelation.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]))
        #expect(abs(rho - 0.8207826816681233) < 1e-12)
        #expect(RankCorrelation.spearman([1, 2, 3], [10, 100, 1000]) == 1)
        #expect(RankCorrelation.spearman([1, 2, 3], [3, 2, 1]) == -1)
        #expect(RankCorrelation.spearman([1, 2], [1, 2]) == nil)
        #expect(RankCorrelation.spearman([1, 1, 1], [1, 2, 3]) == nil)
    }
}
