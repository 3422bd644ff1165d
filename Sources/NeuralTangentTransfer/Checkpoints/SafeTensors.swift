import Foundation

/// The safetensors format (as used by Hugging Face): an 8-byte little-endian header length, a
/// JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}} padded
/// with spaces to a multiple of 8, then the raw little-endian tensor bytes. Loads directly in
/// NumPy, PyTorch and JAX (`safetensors.numpy.load_file`).
public enum SafeTensors {
    /// Writes Float32 tensors (in the given order) atomically; the bytes depend only on the input.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             to path: String) throws {
        var names = Set<String>()
        for (name, _) in tensors {
            guard names.insert(name).inserted else { throw NTTError("\(path): duplicate tensor name '\(name)'") }
            guard name != "__metadata__" else { throw NTTError("\(path): '__metadata__' is not a valid tensor name") }
        }
        var header = "{"
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            header += "\"__metadata__\":{" + fields.joined(separator: ",") + "},"
        }
        var offset = 0
        var entries: [String] = []
        for (name, tensor) in tensors {
            let end = offset + tensor.count * 4
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],"
                           + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for (_, tensor) in tensors {
            tensor.scalars.withUnsafeBufferPointer { buffer in
                // Float32 is little-endian on every platform Swift supports here.
                data.append(UnsafeBufferPointer(start: UnsafeRawPointer(buffer.baseAddress!)
                                                    .assumingMemoryBound(to: UInt8.self),
                                                count: buffer.count * 4))
            }
        }
        try AtomicFile.write(data, to: path)
    }

    private static func jsonString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }

    /// Reads a file; F32 tensors load as is, F64/F16/BF16 are converted to Float32.
    public static func read(_ path: String) throws -> SafeTensorsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NTTError("\(path): cannot read the file (missing or unreadable)")
        }
        func fail(_ why: String) -> NTTError { NTTError("\(path): not a valid safetensors file: \(why)") }
        guard data.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100_000_000 else {
            throw fail("header length \(headerLength) exceeds the file size \(data.count)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        let body = data.subdata(in: (8 + Int(headerLength))..<data.count)
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
            metadata = m
        }
        var entries: [(name: String, begin: Int, end: Int, tensor: Tensor)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int],
                  offsets.count == 2 else {
                throw fail("entry '\(name)' lacks dtype, shape or data_offsets (as a string and integer lists)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)' has a negative dimension") }
            // Shapes come from the file: multiply with overflow checks and bound by the data bytes
            // before anything is allocated ([4294967296, 4294967296, 16] must not trap).
            var count = 1, overflow = false
            for d in shape where !overflow { (count, overflow) = count.multipliedReportingOverflow(by: d) }
            guard !overflow, count <= body.count else {
                throw fail("tensor '\(name)' has shape \(shape), more elements than the file's \(body.count) "
                           + "data bytes hold")
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F64": width = 8
            case "F16", "BF16": width = 2
            default:
                throw NTTError("\(path): tensor '\(name)' has dtype \(dtype); expected F32 (F64, F16 and BF16 are "
                               + "converted)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= body.count, end - begin == count * width else {
                throw fail("tensor '\(name)' has data offsets [\(begin), \(end)] that do not fit its shape \(shape) "
                           + "or the file (\(body.count) data bytes)")
            }
            let scalars: [Float] = body.withUnsafeBytes { raw in
                let base = raw.baseAddress! + begin
                func load<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
                    T(littleEndian: base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
                }
                return (0..<count).map { i in
                    switch dtype {
                    case "F32": return Float(bitPattern: load(i, UInt32.self))
                    case "F64": return Float(Double(bitPattern: load(i, UInt64.self)))
                    case "F16": return Float(Float16(bitPattern: load(i, UInt16.self)))
                    default: return Float(bitPattern: UInt32(load(i, UInt16.self)) << 16)  // BF16: an F32's top half
                    }
                }
            }
            entries.append((name, begin, end, Tensor(shape: shape, scalars: scalars)))
        }
        entries.sort { $0.begin != $1.begin ? $0.begin < $1.begin : $0.name < $1.name }
        for (a, b) in zip(entries, entries.dropFirst()) where a.end > b.begin {
            throw fail("tensors '\(a.name)' and '\(b.name)' overlap")
        }
        return SafeTensorsFile(path: path, names: entries.map(\.name),
                               tensors: Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.tensor) }),
                               metadata: metadata)
    }
}
