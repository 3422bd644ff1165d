import Foundation

/// The numeric-array subset of MATLAB's v5 MAT-file format that SVHN's official files use
/// (MathWorks, "MAT-File Format", 2019): a 128-byte header (text, version 0x0100, endian
/// indicator "IM" or "MI"), then data elements, each an 8-byte tag (type, byte count) padded to
/// 8 bytes, or a 4-byte "small element" tag with its data in the next 4 bytes. A variable is a
/// miMATRIX element (array flags, dimensions, name, real part), possibly wrapped in a
/// zlib-compressed miCOMPRESSED element. Anything else a wanted variable uses (v7.3/HDF5 files,
/// complex, sparse, cell, struct or char arrays) is rejected with a one-line error naming the
/// file; unwanted variables are skipped.
///
/// No Swift package reads MAT-files, hence this reader. Every size read from the file is checked
/// against the bytes that hold it (for compressed elements, deflate's largest expansion and
/// `maximumBytes`) before anything is allocated.
struct MATFile {
    /// A numeric array: MATLAB class, dimensions and the real part's bytes as stored (column-major,
    /// possibly in a narrower type than the class, e.g. a double array saved as uint8).
    struct NumericArray {
        var name: String
        /// mxClassID: 6 double, 7 single, 8…15 int8, uint8, int16, uint16, int32, uint32, int64, uint64.
        var classID: Int
        var dimensions: [Int]
        /// miType of the stored elements (1…7, 9, 12, 13).
        var storageType: Int
        var bytes: [UInt8]
        var bigEndian: Bool

        static let classNames = [6: "double", 7: "single", 8: "int8", 9: "uint8", 10: "int16", 11: "uint16",
                                 12: "int32", 13: "uint32", 14: "int64", 15: "uint64"]
        var className: String { Self.classNames[classID] ?? "class \(classID)" }

        /// The elements as Double, in file (column-major) order.
        var values: [Double] {
            let size = MATFile.elementSizes[storageType]!
            return bytes.withUnsafeBytes { raw in
                (0..<(bytes.count / size)).map { i in
                    var word: UInt64 = 0
                    for k in 0..<size {
                        word = word << 8 | UInt64(raw[i * size + (bigEndian ? k : size - 1 - k)])
                    }
                    switch storageType {
                    case 1: return Double(Int8(truncatingIfNeeded: word))
                    case 3: return Double(Int16(truncatingIfNeeded: word))
                    case 5: return Double(Int32(truncatingIfNeeded: word))
                    case 12: return Double(Int64(bitPattern: word))
                    case 7: return Double(Float(bitPattern: UInt32(word)))
                    case 9: return Double(bitPattern: word)
                    default: return Double(word)
                    }
                }
            }
        }
    }

    /// The largest element accepted (2 GiB; SVHN's training X is 225 MB).
    static let maximumBytes = 1 << 31
    /// Bytes per element of the numeric miTypes: int8, uint8, int16, uint16, int32, uint32,
    /// single, double, int64, uint64.
    static let elementSizes = [1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8]
    static let miMATRIX = 14, miCOMPRESSED = 15

    /// The numeric arrays named in `variables` that the file holds.
    static func read(_ path: String, variables: Set<String>) throws -> [String: NumericArray] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NTTError("\(path): cannot read the file")
        }
        guard data.count >= 128 else {
            throw NTTError("\(path): \(data.count) bytes is too short for a MAT-file's 128-byte header")
        }
        let text = String(decoding: data.prefix(116), as: UTF8.self)
        // v7.3 files are HDF5 with a 512-byte user block: the HDF5 signature follows it.
        let hdf5Signature = Data([0x89, 72, 68, 70, 13, 10, 26, 10])
        if text.hasPrefix("MATLAB 7.3") || data.count >= 520 && data[512..<520] == hdf5Signature {
            throw NTTError("\(path): a MATLAB v7.3 (HDF5) MAT-file; expected v5 (save with -v7, as the official "
                           + "files are)")
        }
        guard text.hasPrefix("MATLAB 5.0 MAT-file") else {
            throw NTTError("\(path): not a MATLAB v5 MAT-file (its header does not start with 'MATLAB 5.0 MAT-file')")
        }
        let bigEndian: Bool
        switch (data[126], data[127]) {
        case (0x49, 0x4d): bigEndian = false  // "IM": written little-endian
        case (0x4d, 0x49): bigEndian = true
        default: throw NTTError("\(path): MAT-file header without the endian indicator 'IM' or 'MI'")
        }
        let version = bigEndian ? Int(data[124]) << 8 | Int(data[125]) : Int(data[125]) << 8 | Int(data[124])
        guard version == 0x0100 else {
            throw NTTError("\(path): MAT-file version 0x\(String(version, radix: 16)), expected 0x100 (v5)")
        }
        var found: [String: NumericArray] = [:]
        try data.withUnsafeBytes { (file: UnsafeRawBufferPointer) in
            var reader = ElementReader(bytes: file, offset: 128, bigEndian: bigEndian, path: path)
            while reader.offset < file.count {
                let element = try reader.next(what: "a top-level element")
                let array: NumericArray?
                switch element.type {
                case miMATRIX:
                    array = try matrix(UnsafeRawBufferPointer(rebasing: file[element.data]), bigEndian: bigEndian,
                                       path: path, wanted: variables)
                case miCOMPRESSED:
                    array = try compressed(Data(file[element.data]), bigEndian: bigEndian, path: path,
                                           wanted: variables)
                default:
                    throw NTTError("\(path): unexpected top-level element of type \(element.type) at byte " +
                                   "\(element.data.lowerBound - 8); expected miMATRIX (14) or miCOMPRESSED (15)")
                }
                if let array, found[array.name] == nil { found[array.name] = array }
            }
        }
        return found
    }

    /// Inflates one miCOMPRESSED element: its inner tag first, whose size is checked, then
    /// exactly that many bytes.
    private static func compressed(_ payload: Data, bigEndian: Bool, path: String,
                                   wanted: Set<String>) throws -> NumericArray? {
        let stream = try InflateStream(payload, format: .zlib, path: path)
        let tag = try stream.read(8, what: "a compressed element's tag")
        let type = tag.withUnsafeBytes { ElementReader.word($0, 0, bigEndian) }
        let count = tag.withUnsafeBytes { ElementReader.word($0, 4, bigEndian) }
        guard type == miMATRIX else {
            throw NTTError("\(path): a compressed element holds type \(type); expected miMATRIX (14)")
        }
        guard count <= maximumBytes, count <= stream.maximumOutput else {
            throw NTTError("\(path): a compressed element declares \(count) bytes, more than its " +
                           "\(payload.count) compressed bytes can hold or above \(maximumBytes) (corrupt)")
        }
        let body = try stream.read(count, what: "a compressed miMATRIX element")
        try stream.expectEnd(after: "its \(count)-byte miMATRIX element")
        return try body.withUnsafeBytes { try matrix($0, bigEndian: bigEndian, path: path, wanted: wanted) }
    }

    /// Parses a miMATRIX element's body; nil when its name is not wanted.
    private static func matrix(_ body: UnsafeRawBufferPointer, bigEndian: Bool, path: String,
                               wanted: Set<String>) throws -> NumericArray? {
        var reader = ElementReader(bytes: body, offset: 0, bigEndian: bigEndian, path: path)
        let flags = try reader.next(what: "the array flags")
        guard flags.type == 6, flags.data.count == 8 else {
            throw NTTError("\(path): a matrix's array flags are not 8 bytes of miUINT32 (corrupt)")
        }
        let flagWord = ElementReader.word(body, flags.data.lowerBound, bigEndian)
        let classID = flagWord & 0xff, complex = flagWord & 0x800 != 0
        let dims = try reader.next(what: "the dimensions")
        guard dims.type == 5, dims.data.count >= 8, dims.data.count % 4 == 0 else {
            throw NTTError("\(path): a matrix's dimensions are not at least two miINT32 values (corrupt)")
        }
        let dimensions = stride(from: dims.data.lowerBound, to: dims.data.upperBound, by: 4).map {
            Int(Int32(truncatingIfNeeded: ElementReader.word(body, $0, bigEndian)))
        }
        let nameElement = try reader.next(what: "the array name")
        guard nameElement.type == 1 || nameElement.type == 2 else {
            throw NTTError("\(path): a matrix's name is not miINT8 text (corrupt)")
        }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: body[nameElement.data]), as: UTF8.self)
        guard wanted.contains(name) else { return nil }
        let kind = NumericArray.classNames[classID]
        guard let kind, !complex else {
            let what = complex ? "complex" : [1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse"][classID]
                ?? "class \(classID)"
            throw NTTError("\(path): variable '\(name)' is a \(what) array; expected a real numeric array")
        }
        guard dimensions.allSatisfy({ $0 >= 0 }) else {
            throw NTTError("\(path): variable '\(name)' has negative dimensions \(dimensions) (corrupt)")
        }
        let real = try reader.next(what: "the real part of '\(name)'")
        guard let size = elementSizes[real.type] else {
            throw NTTError("\(path): variable '\(name)' (\(kind)) stores its data as type \(real.type); " +
                           "expected a numeric type")
        }
        var elements = 1, overflow = false
        for d in dimensions where !overflow { (elements, overflow) = elements.multipliedReportingOverflow(by: d) }
        guard !overflow, elements.multipliedReportingOverflow(by: size) == (real.data.count, false) else {
            throw NTTError("\(path): variable '\(name)' has dimensions \(dimensions) but \(real.data.count) bytes " +
                           "of \(size)-byte elements (corrupt)")
        }
        return NumericArray(name: name, classID: classID, dimensions: dimensions, storageType: real.type,
                            bytes: [UInt8](UnsafeRawBufferPointer(rebasing: body[real.data])), bigEndian: bigEndian)
    }

    /// Walks data elements; every tag's byte count is checked against the bytes left.
    struct ElementReader {
        let bytes: UnsafeRawBufferPointer
        var offset: Int
        let bigEndian: Bool
        let path: String

        static func word(_ b: UnsafeRawBufferPointer, _ at: Int, _ bigEndian: Bool) -> Int {
            let v = (0..<4).reduce(0) { $0 << 8 | Int(b[at + (bigEndian ? $1 : 3 - $1)]) }
            return v
        }

        /// The next element's type and the byte range of its data; moves past its padding.
        mutating func next(what: String) throws -> (type: Int, data: Range<Int>) {
            guard bytes.count - offset >= 8 else {
                throw NTTError("\(path): the file ends where \(what) should start (truncated)")
            }
            let first = Self.word(bytes, offset, bigEndian)
            if first >> 16 != 0 {
                // Small element: type in the low half, byte count (≤ 4) in the high half.
                let type = first & 0xffff, count = first >> 16
                guard count <= 4 else { throw NTTError("\(path): a small element of \(count) bytes (corrupt)") }
                defer { offset += 8 }
                return (type, (offset + 4)..<(offset + 4 + count))
            }
            let count = Self.word(bytes, offset + 4, bigEndian)
            let start = offset + 8
            guard count <= bytes.count - start else {
                throw NTTError("\(path): \(what) declares \(count) bytes but only \(bytes.count - start) remain " +
                               "(truncated)")
            }
            // miCOMPRESSED data is not padded (MATLAB and SciPy write it so); everything else is.
            offset = first == MATFile.miCOMPRESSED ? start + count : min(start + (count + 7) / 8 * 8, bytes.count)
            return (first, start..<(start + count))
        }
    }
}
