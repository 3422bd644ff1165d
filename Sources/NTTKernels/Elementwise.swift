/// Elementwise arithmetic on equal-length buffers: out[i] = a[i] ∘ b[i].
///
/// Long buffers are cut into blocks of 8k elements that run on the thread pool. Each element is
/// computed on its own, so the cut cannot change a result; the loops are written out per
/// operation (a closure called per element would not vectorise).
package enum Elementwise {
    /// Below this many elements a single thread is faster than sharing out the work. (With 64k
    /// and 32k-element blocks, the sizes until 2026-12-05, a LeNet-300-100 kernel's passes ran on
    /// one thread while the other waited; 16k and 8k: `ntk/lenet-300-100` 1.12× faster,
    /// `ntt-step/lenet-300-100` 1.02–1.05×, LeNet-5 within the noise, 0.96–1.01×.)
    static let parallelThreshold = 16_384
    static let block = 8_192

    @inline(__always)
    static func blocks(_ count: Int, _ body: (Int, Int) -> Void) {
        if count < parallelThreshold { return body(0, count) }
        Parallel.forEachRange(of: (count + block - 1) / block, work: block) { blocks in
            let start = blocks.lowerBound * block
            body(start, min(count, blocks.upperBound * block) - start)
        }
    }

    package static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           into out: UnsafeMutablePointer<Float>, count: Int) {
        blocks(count) { start, n in
            let (a, b, out) = (a + start, b + start, out + start)
            for i in 0..<n { out[i] = a[i] + b[i] }
        }
    }

    package static func subtract(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                into out: UnsafeMutablePointer<Float>, count: Int) {
        blocks(count) { start, n in
            let (a, b, out) = (a + start, b + start, out + start)
            for i in 0..<n { out[i] = a[i] - b[i] }
        }
    }

    package static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                into out: UnsafeMutablePointer<Float>, count: Int) {
        blocks(count) { start, n in
            let (a, b, out) = (a + start, b + start, out + start)
            for i in 0..<n { out[i] = a[i] * b[i] }
        }
    }

    package static func divide(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                              into out: UnsafeMutablePointer<Float>, count: Int) {
        blocks(count) { start, n in
            let (a, b, out) = (a + start, b + start, out + start)
            for i in 0..<n { out[i] = a[i] / b[i] }
        }
    }
}
