/// SPEC §5 tensor names for the i-th parametrised layer.
public enum TensorNames {
    public static func weight(_ i: Int) -> String { "layers.\(i).weight" }
    public static func bias(_ i: Int) -> String { "layers.\(i).bias" }
    public static func mask(_ i: Int) -> String { "layers.\(i).mask" }
}
