import CSodium

/// One-time libsodium initialisation.
///
/// Swift initialises globals lazily and exactly once, so every entry point that
/// touches libsodium reads `sodiumReady` first and never races `sodium_init`.
let sodiumReady: Bool = sodium_init() >= 0

@inline(__always)
func requireSodium() {
    // libsodium only fails to initialise when the system has no entropy source;
    // nothing in QBC can run safely after that.
    precondition(sodiumReady, "libsodium failed to initialise (no entropy source?)")
}

/// The libsodium version this process is linked against, for diagnostics.
public var sodiumVersion: String {
    String(cString: sodium_version_string())
}
