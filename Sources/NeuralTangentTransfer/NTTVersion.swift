/// The tool's version, recorded in every output.
public enum NTTVersion {
    public static let current = "0.1.0"
}
