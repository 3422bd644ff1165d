import NTTAutodiff

/// A 2-D window or stride size (height × width).
public struct Window: Sendable, Hashable, CustomStringConvertible {
    public var height: Int, width: Int
    public init(_ height: Int, _ width: Int) { self.height = height; self.width = width }
    public init(_ size: Int) { self.init(size, size) }
    public var description: String { height == width ? "\(height)" : "\(height)x\(width)" }
}
