import Dispatch
import Glibc
import Synchronization
import Testing
@testable import NTTKernels

/// Work split over threads: the split depends on the shape only, so one thread and two threads
/// give the same bits, and the parts together compute the whole.
@Suite(.serialized)
struct ParallelTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var r = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float(r.nextNormal()) }
    }

    /// Runs `body` with one thread and then with two; returns both results.
    static func onOneAndTwoThreads<R>(_ body: () -> R) -> (R, R) {
        (Parallel.$threadBudget.withValue(1, operation: body), Parallel.$threadBudget.withValue(2, operation: body))
    }

    /// The threads that ran the parts of one job of `parts` parts (each busy for ~0.2 ms, so
    /// that helpers have time to claim some).
    static func threadsRunning(parts: Int) -> Set<UInt> {
        let ids = UnsafeMutableBufferPointer<UInt>.allocate(capacity: parts)
        defer { ids.deallocate() }
        Parallel.forEach(parts: parts) { p in
            ids[p] = UInt(pthread_self())
            let start = DispatchTime.now().uptimeNanoseconds
            while DispatchTime.now().uptimeNanoseconds - start < 200_000 {}
        }
        return Set(ids)
    }

    /// The handoff time is measured on two threads (a helper really runs the second part: the
    /// first waits for it), and there is none on one. Another suite's job can hold the pool,
    /// which makes a measurement give up (nil), so a few tries are allowed.
    @Test func handoffIsMeasuredOnTwoThreadsOnly() {
        #expect(Parallel.$threadBudget.withValue(1) { Parallel.handoffMicroseconds(jobs: 10, batches: 1) } == nil)
        var measured: Double?
        for _ in 0..<200 where measured == nil {
            measured = Parallel.$threadBudget.withValue(2) { Parallel.handoffMicroseconds(jobs: 200, batches: 3) }
            if measured == nil { usleep(5_000) }
        }
        #expect(measured.map { $0 > 0 && $0 < 10_000 } == true, "handoff \(String(describing: measured)) µs")
        // On a pool of its own, whose first job starts the helper (which then waits for the next
        // job: the first one's second part is the caller's after the wait gives up).
        let fresh = Parallel.$threadBudget.withValue(2) {
            Parallel.handoffMicroseconds(jobs: 50, batches: 1, pool: WorkerPool())
        }
        #expect(fresh.map { $0 > 0 && $0 < 10_000 } == true, "handoff on a fresh pool \(String(describing: fresh)) µs")
    }

    /// The budget bounds the threads of each job, also after a larger budget started more
    /// helpers; and a budget of 2 does use a second thread (else the 1-vs-2-thread comparisons
    /// below would compare one thread with itself).
    @Test func theBudgetBoundsTheThreadsOfAJob() {
        let caller = UInt(pthread_self())
        #expect(Parallel.$threadBudget.withValue(1) { Self.threadsRunning(parts: 8) } == [caller])
        for budget in [4, 2, 3] {
            var seen = Set<UInt>()
            for _ in 0..<50 {
                let threads = Parallel.$threadBudget.withValue(budget) { Self.threadsRunning(parts: 8) }
                #expect(threads.count <= budget, "budget \(budget): \(threads.count) threads ran one job")
                seen.formUnion(threads)
                if seen.count > 1 { break }
            }
            #expect(seen.count > 1, "budget \(budget): no helper ran a part in 50 jobs")
        }
        #expect(Parallel.$threadBudget.withValue(1) { Self.threadsRunning(parts: 8) } == [caller])
    }

    @Test func partitionsFollowTheShape() {
        #expect(Gemm.Partition(m: 10, n: 10, k: 10) == .whole)
        #expect(Gemm.Partition(m: 4096, n: 50, k: 500) == .rows(parts: 8, size: 512))
        #expect(Gemm.Partition(m: 64, n: 300, k: 784) == .columns(parts: 7, size: 48))
        #expect(Gemm.Partition(m: 25, n: 20, k: 36864) == .contracted(parts: 2, size: 18432))
        #expect(Gemm.Partition(m: 500, n: 50, k: 4096) == .contracted(parts: 2, size: 2048))
        #expect(Gemm.Partition(m: 800, n: 500, k: 64) == .rows(parts: 8, size: 112))
        // Above 512 MFLOP: a part per ~64 MFLOP, up to 64 (the conv NTK's Gram chunks and their
        // pullback products), the contracted axis in parts of at least 1024, and its partials
        // held to ~64 MB.
        #expect(Gemm.Partition(m: 320, n: 320, k: 8192) == .contracted(parts: 8, size: 1024))
        #expect(Gemm.Partition(m: 320, n: 8192, k: 320) == .columns(parts: 26, size: 320))
        #expect(Gemm.Partition(m: 4096, n: 4096, k: 4096) == .rows(parts: 64, size: 64))
        #expect(Gemm.Partition(m: 2048, n: 2048, k: 65536) == .contracted(parts: 5, size: 13108))
        Parallel.forEachRange(of: 0, work: 100) { _ in Issue.record("a range of nothing") }
        for size in [1, 5, 64, 100] {
            // Ranges run at once on several threads: each counts its own items (no shared append).
            var hits = [Int](repeating: 0, count: size)
            hits.withUnsafeMutableBufferPointer { counts in
                let base = counts.baseAddress!
                Parallel.forEachRange(of: size, work: 100_000) { range in for i in range { base[i] += 1 } }
            }
            #expect(hits == [Int](repeating: 1, count: size))
        }
    }

    /// `overlapping` returns both results with any budget; the first computation always runs on
    /// the calling thread; with a budget of two the second runs on a helper (when one claims it
    /// before the caller is done: each side here is busy ~0.3 ms; tried for up to 5 s), and the
    /// jobs inside either side run all their parts (on that side's thread).
    @Test func overlappingRunsTheFirstHereAndTheSecondBesideIt() {
        let caller = UInt(pthread_self())
        func busy() {
            let start = DispatchTime.now().uptimeNanoseconds
            while DispatchTime.now().uptimeNanoseconds - start < 300_000 {}
        }
        func side(_ tag: Int) -> (thread: UInt, sum: Int) {
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 6)
            defer { counts.deallocate() }
            counts.initialize(repeating: 0)
            busy()
            Parallel.forEach(parts: 6) { p in counts[p] += tag }
            return (UInt(pthread_self()), counts.reduce(0, +))
        }
        for budget in [1, 2, 3] {
            // Budget 2 tries for up to 5 s: under the full suite other suites' jobs can keep the
            // shared pool busy (the pair then runs on the calling thread, as documented).
            var helperRanSecond = false
            let deadline = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
            while true {
                let (a, b) = Parallel.$threadBudget.withValue(budget) {
                    Parallel.overlapping({ side(1) }, { side(10) })
                }
                #expect(a.thread == caller && a.sum == 6 && b.sum == 60)
                if budget != 2 { #expect(b.thread == caller) }
                helperRanSecond = helperRanSecond || b.thread != caller
                if budget != 2 || helperRanSecond || DispatchTime.now().uptimeNanoseconds > deadline { break }
            }
            if budget == 2 { #expect(helperRanSecond, "budget 2: the second computation never ran on a helper") }
        }
        // Called from inside a job's part: both run on that part's thread, one after the other.
        Parallel.$threadBudget.withValue(2) {
            Parallel.forEach(parts: 2) { _ in
                let here = UInt(pthread_self())
                let (a, b) = Parallel.overlapping({ side(1) }, { side(2) })
                #expect(a.thread == here && b.thread == here && a.sum == 6 && b.sum == 12)
            }
        }
    }

    /// A job started inside a running job's part becomes the pool's nested job, and the running
    /// job's caller, done with its own part, helps with it: as in `overlapping` (budget 2) when
    /// the side on the calling thread finishes first. Part 0 (the caller's) waits until the
    /// helper has started part 1, which runs a nested job of 16 parts of ~0.1 ms; the caller then
    /// takes some. Every part runs once, on at most the two threads. A pool of its own, and tries
    /// for up to 5 s: under the full suite other suites' threads compete for the two cores, and a
    /// try counts only if the helper got a core in time.
    @Test func theSideDoneFirstHelpsTheOther() {
        final class Flag: Sendable { let started = Atomic<Bool>(false) }
        let pool = WorkerPool()
        let caller = UInt(pthread_self())
        var helped = false
        let deadline = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
        while !helped && DispatchTime.now().uptimeNanoseconds < deadline {
            let flag = Flag()
            let ids = UnsafeMutableBufferPointer<UInt>.allocate(capacity: 17)
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 16)
            defer { ids.deallocate(); counts.deallocate() }
            ids.initialize(repeating: 0)
            counts.initialize(repeating: 0)
            let ran = pool.run(parts: 2, helpers: 1, callerRunsFirstPart: true) { part in
                guard part == 1 else {
                    let start = DispatchTime.now().uptimeNanoseconds
                    while !flag.started.load(ordering: .acquiring)
                        && DispatchTime.now().uptimeNanoseconds - start < 20_000_000 {}
                    return
                }
                ids[16] = UInt(pthread_self())
                flag.started.store(true, ordering: .releasing)
                let nested = pool.runNested(parts: 16, helpers: 1) { p in
                    ids[p] = UInt(pthread_self())
                    counts[p] += 1
                    let start = DispatchTime.now().uptimeNanoseconds
                    while DispatchTime.now().uptimeNanoseconds - start < 100_000 {}
                }
                #expect(nested, "the nested slot of a pool of its own was taken")
            }
            #expect(ran, "a pool of its own was busy")
            #expect(counts.allSatisfy { $0 == 1 })
            #expect(Set(ids).count <= 2, "\(Set(ids).count) threads ran a job of one helper")
            helped = ids[16] != caller && ids.prefix(16).contains(caller)
        }
        #expect(helped, "the caller never took a part of the nested job in 5 s of tries")
    }

    /// A job started from a part of a running job (the nested job) runs on the running job's
    /// threads only: with a budget of 3, after a budget of 6 started five helpers, the parts of
    /// both levels run on at most three threads, and every inner part runs once.
    @Test func nestedJobsKeepTheBudget() {
        _ = Parallel.$threadBudget.withValue(6) { Self.threadsRunning(parts: 12) }
        for _ in 0..<20 {
            let ids = UnsafeMutableBufferPointer<UInt>.allocate(capacity: 6 * 8)
            defer { ids.deallocate() }
            ids.initialize(repeating: 0)
            Parallel.$threadBudget.withValue(3) {
                Parallel.forEach(parts: 6) { p in
                    Parallel.forEach(parts: 8) { q in
                        ids[p * 8 + q] = UInt(pthread_self())
                        let start = DispatchTime.now().uptimeNanoseconds
                        while DispatchTime.now().uptimeNanoseconds - start < 50_000 {}
                    }
                }
            }
            #expect(!ids.contains(0))
            #expect(Set(ids).count <= 3, "budget 3: \(Set(ids).count) threads ran a job and its nested jobs")
        }
    }

    /// Every part runs exactly once, also when calls come from several threads at once and
    /// from inside parts (nested jobs), over many back-to-back jobs.
    @Test func everyPartRunsOnceUnderConcurrentAndNestedCalls() async {
        // Child tasks inherit the budget.
        await Parallel.$threadBudget.withValue(2) { await withTaskGroup(of: Bool.self) { group in
            for caller in 0..<4 {
                group.addTask {
                    var ok = true
                    for round in 0..<300 {
                        let parts = 1 + (caller + round) % 11
                        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts * 3)
                        counts.initialize(repeating: 0)
                        Parallel.forEach(parts: parts) { p in
                            counts[p * 3] += 1
                            Parallel.forEach(parts: 2) { q in counts[p * 3 + 1 + q] += 1 }
                        }
                        ok = ok && counts.allSatisfy { $0 == 1 }
                        counts.deallocate()
                    }
                    return ok
                }
            }
            for await ok in group { #expect(ok) }
        } }
    }

    @Test(arguments: [(4096, 50, 500, false, false), (64, 300, 784, false, true), (784, 300, 64, true, false),
                      (25, 20, 36864, true, false), (40, 30, 9000, true, true), (33, 1000, 300, false, false),
                      (320, 320, 8192, false, true), (320, 4096, 320, true, false)])
    func productsAreSplitExactlyAndCorrectly(shape: (Int, Int, Int, Bool, Bool)) {
        let (m, n, k, transposeA, transposeB) = shape
        let a = Self.random(m * k, seed: 1), b = Self.random(k * n, seed: 2), c0 = Self.random(m * n, seed: 3)
        for beta: Float in [0, 0.5] {
            let (one, two) = Self.onOneAndTwoThreads { () -> [Float] in
                var c = c0
                c.withUnsafeMutableBufferPointer { c in
                    Gemm.multiply(a, transposeA: transposeA, b, transposeB: transposeB, into: c.baseAddress!,
                                  m: m, n: n, k: k, alpha: 1, beta: beta)
                }
                return c
            }
            #expect(one == two, "\(shape), beta \(beta): one and two threads differ")
            if Gemm.Partition(m: m, n: n, k: k) != .whole {
                // More threads than parts' worth of cores: still the same bits.
                var seven = c0
                Parallel.$threadBudget.withValue(7) {
                    seven.withUnsafeMutableBufferPointer { c in
                        Gemm.multiply(a, transposeA: transposeA, b, transposeB: transposeB,
                                      into: c.baseAddress!, m: m, n: n, k: k, alpha: 1, beta: beta)
                    }
                }
                #expect(seven == one, "\(shape), beta \(beta): one and seven threads differ")
            }
            var worst = 0.0
            for i in stride(from: 0, to: m, by: max(1, m / 7)) {
                for j in stride(from: 0, to: n, by: max(1, n / 7)) {
                    var sum = Double(beta) * Double(c0[i * n + j])
                    for p in 0..<k {
                        sum += Double(transposeA ? a[p * m + i] : a[i * k + p])
                            * Double(transposeB ? b[j * k + p] : b[p * n + j])
                    }
                    worst = max(worst, abs(sum - Double(two[i * n + j])) / Double(k).squareRoot())
                }
            }
            #expect(worst < 1e-4, "\(shape), beta \(beta): error \(worst)")
        }
    }

    @Test func windowKernelsGiveTheSameBitsOnOneAndTwoThreads() {
        let g = WindowGeometry(batch: 16, height: 12, width: 12, channels: 20, windowHeight: 5, windowWidth: 5,
                               strideHeight: 1, strideWidth: 1, samePadding: true)
        let x = Self.random(g.inputCount, seed: 4)
        let (patches1, patches2) = Self.onOneAndTwoThreads { () -> [Float] in
            [Float](unsafeUninitializedCapacity: g.patchCount * g.patchSize) { p, n in
                Im2col.patches(x, g, into: p.baseAddress!); n = g.patchCount * g.patchSize
            }
        }
        #expect(patches1 == patches2)
        let (image1, image2) = Self.onOneAndTwoThreads { () -> [Float] in
            [Float](unsafeUninitializedCapacity: g.inputCount) { p, n in
                Im2col.accumulate(patches1, g, into: p.baseAddress!); n = g.inputCount
            }
        }
        #expect(image1 == image2)
        let pool = WindowGeometry(batch: 16, height: 12, width: 12, channels: 20, windowHeight: 2, windowWidth: 2,
                                  strideHeight: 2, strideWidth: 2, samePadding: false)
        let outCount = pool.batch * pool.outHeight * pool.outWidth * pool.channels
        let (max1, max2) = Self.onOneAndTwoThreads { () -> [Int32] in
            [Int32](unsafeUninitializedCapacity: outCount) { p, n in
                Pooling.maxIndices(x, pool, into: p.baseAddress!); n = outCount
            }
        }
        #expect(max1 == max2)
    }

    /// The chunked convolution and its two gradients, with 20 chunks in 7 groups of up to 3.
    @Test func convolutionKernelsGiveTheSameBitsOnOneAndTwoThreads() {
        let g = WindowGeometry(batch: 20, height: 30, width: 30, channels: 4, windowHeight: 5, windowWidth: 5,
                               strideHeight: 1, strideWidth: 1, samePadding: false)
        #expect(Convolution.chunks(g) == (images: 1, count: 20))
        let cout = 6, outCount = g.patchCount * cout
        let x = Self.random(g.inputCount, seed: 7), w = Self.random(g.patchSize * cout, seed: 8)
        let bias = Self.random(cout, seed: 9), dy = Self.random(outCount, seed: 10)
        let (y1, y2) = Self.onOneAndTwoThreads { () -> [Float] in
            [Float](unsafeUninitializedCapacity: outCount) { p, n in
                Convolution.forward(x, w, bias: bias, g, outChannels: cout, into: p.baseAddress!); n = outCount
            }
        }
        #expect(y1 == y2)
        let (dx1, dx2) = Self.onOneAndTwoThreads { () -> [Float] in
            [Float](unsafeUninitializedCapacity: g.inputCount) { p, n in
                Convolution.inputGradient(dy, w, g, outChannels: cout, into: p.baseAddress!); n = g.inputCount
            }
        }
        #expect(dx1 == dx2)
        let (dw1, dw2) = Self.onOneAndTwoThreads { () -> [Float] in
            [Float](unsafeUninitializedCapacity: g.patchSize * cout) { p, n in
                Convolution.filterGradient(x, dy, g, outChannels: cout, into: p.baseAddress!); n = g.patchSize * cout
            }
        }
        #expect(dw1 == dw2)
    }

    /// Column sums (bias gradients) over row blocks: the same bits on one and two threads, and
    /// the sums of a double-precision reference, for one block and for several.
    @Test(arguments: [(0, 3), (7, 3), (5000, 20), (36864, 20)])
    func columnSumsAreSplitExactlyAndCorrectly(shape: (Int, Int)) {
        let (rows, columns) = shape
        let x = Self.random(rows * columns, seed: 11)
        let (one, two) = Self.onOneAndTwoThreads { () -> [Float] in
            [Float](unsafeUninitializedCapacity: columns) { p, n in
                Strided.reduceSum(x, from: [rows, columns], to: [1, columns], into: p.baseAddress!); n = columns
            }
        }
        #expect(one == two)
        for j in 0..<columns {
            let reference = (0..<rows).reduce(0.0) { $0 + Double(x[$1 * columns + j]) }
            #expect(abs(Double(one[j]) - reference) <= 1e-4 * max(1, Double(rows).squareRoot()), "column \(j)")
        }
    }

    /// Sums over the middle axis ([a, b, c] → [a, 1, c]: a conv layer's bias term) add the b in
    /// order as a plain loop does, to the bit, on one and two threads.
    @Test(arguments: [[3, 0, 4], [1, 5, 1], [7, 9, 3], [320, 576, 20]])
    func middleSumsMatchAPlainLoopExactly(shape: [Int]) {
        let (outer, middle, inner) = (shape[0], shape[1], shape[2])
        let x = Self.random(outer * middle * inner, seed: 15)
        var expected = [Float](repeating: 0, count: outer * inner)
        for a in 0..<outer {
            for b in 0..<middle {
                for c in 0..<inner { expected[a * inner + c] += x[(a * middle + b) * inner + c] }
            }
        }
        let (one, two) = Self.onOneAndTwoThreads { () -> [Float] in
            [Float](unsafeUninitializedCapacity: outer * inner) { p, n in
                Strided.reduceSum(x, from: shape, to: [outer, 1, inner], into: p.baseAddress!); n = outer * inner
            }
        }
        #expect(one == expected && two == expected)
    }

    /// Elementwise arithmetic in blocks: every element exactly as a plain loop computes it, on
    /// one and two threads, below, at and above the size where the work is shared out.
    @Test(arguments: [1, 65_535, 65_536, 100_003, 262_144])
    func elementwiseBlocksMatchAPlainLoop(count: Int) {
        let a = Self.random(count, seed: 12), b = Self.random(count, seed: 13).map { $0 + 3 }
        let kernels: [(String, (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                       (Float, Float) -> Float)] = [
            ("add", { Elementwise.add($0, $1, into: $2, count: $3) }, { $0 + $1 }),
            ("subtract", { Elementwise.subtract($0, $1, into: $2, count: $3) }, { $0 - $1 }),
            ("multiply", { Elementwise.multiply($0, $1, into: $2, count: $3) }, { $0 * $1 }),
            ("divide", { Elementwise.divide($0, $1, into: $2, count: $3) }, { $0 / $1 }),
        ]
        for (name, kernel, op) in kernels {
            let expected = zip(a, b).map(op)
            let (one, two) = Self.onOneAndTwoThreads { () -> [Float] in
                [Float](unsafeUninitializedCapacity: count) { p, n in kernel(a, b, p.baseAddress!, count); n = count }
            }
            #expect(one == expected && two == expected, "\(name), \(count) elements")
        }
    }

    /// Axis permutations shared out by ranges of the first output axis (and 2-D transposes by
    /// bands): every element where a plain index computation puts it, on one and two threads.
    @Test(arguments: [([64, 10, 30, 7], [0, 2, 1, 3]), ([40, 6, 50, 9], [3, 1, 0, 2]), ([300, 257], [1, 0]),
                      ([1000], [0])])
    func permutationsAreSplitExactly(layout: ([Int], [Int])) {
        let (shape, permutation) = layout
        let total = shape.reduce(1, *)
        let x = Self.random(total, seed: 14)
        var inStrides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) {
            inStrides[axis] = inStrides[axis + 1] * shape[axis + 1]
        }
        let outShape = permutation.map { shape[$0] }
        var expected = [Float](repeating: 0, count: total)
        for flat in 0..<total {
            var rest = flat, source = 0
            for axis in stride(from: outShape.count - 1, through: 0, by: -1) {
                source += (rest % outShape[axis]) * inStrides[permutation[axis]]
                rest /= outShape[axis]
            }
            expected[flat] = x[source]
        }
        let (one, two) = Self.onOneAndTwoThreads { () -> [Float] in
            [Float](unsafeUninitializedCapacity: total) { p, n in
                Strided.permute(x, shape: shape, permutation: permutation, into: p.baseAddress!); n = total
            }
        }
        #expect(one == expected && two == expected)
    }
}
