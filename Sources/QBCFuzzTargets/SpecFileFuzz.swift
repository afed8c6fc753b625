import Foundation
import QBCCore
import QBCCrypto
import QBCWire

/// `spec-file`: a chain spec file (`qbc bang --spec`, `qbc fork --spec`) or a config file's
/// `chain` section, read as `ChainSpec.read` does from bytes instead of a path, then turned into
/// chain rules and a Bang's bytes.
enum SpecFileFuzz {
    @Sendable static func run(_ bytes: [UInt8]) {
        guard let f = FuzzFixtures.shared,
            let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        else { return }
        apply(object, section: "", f)
        if let chain = object["chain"] as? [String: Any] { apply(chain, section: "chain", f) }
    }

    private static func apply(_ object: [String: Any], section: String, _ f: FuzzFixtures) {
        for base in [ChainSpec.empty, ChainSpec.development] {
            var spec = base
            guard (try? spec.apply(object, section: section, path: "fuzz.json")) != nil,
                let rules = try? spec.rules(adding: [(f.admin.publicKey, .admin)])
            else { continue }
            // What `qbc bang` does next: sign the rules; the Bang must decode back to the same rules.
            let bang = Bang(rules: rules, timestamp: FuzzFixtures.bangTime, creator: f.admin)
            _ = try? Bang(decoding: bang.encoded)
        }
    }
}
