/// True when `needle` occurs in `haystack` (for "no plaintext on disk" checks).
public func occurs(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
    var index = 0
    while index <= haystack.count - needle.count {
        if haystack[index] == needle[0], haystack[index..<index + needle.count].elementsEqual(needle) { return true }
        index += 1
    }
    return false
}
