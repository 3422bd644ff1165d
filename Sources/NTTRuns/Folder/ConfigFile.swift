import Foundation
import NeuralTangentTransfer

/// Settings and resolved values encoded into one flat JSON object.
struct ConfigFile<Settings: Encodable>: Encodable {
    let settings: Settings
    let info: RunInfo
    func encode(to encoder: Encoder) throws {
        try settings.encode(to: encoder)
        try info.encode(to: encoder)
    }
}
