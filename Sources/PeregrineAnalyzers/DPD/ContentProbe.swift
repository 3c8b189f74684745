// SPDX-License-Identifier: Apache-2.0

/// Content-based protocol detection: Zeek's DPD signatures (`base/protocols/*/dpd.sig`) as a
/// small static table of anchored byte-prefix matchers.
///
/// Zeek compiles its signatures into a regular-expression matcher that runs over the first bytes
/// of each direction. Every DPD signature Zeek ships is anchored at the start of a direction's
/// stream, optionally after a run of filler bytes (`^[[:space:]]*GET`), and is a fixed sequence of
/// byte classes after that, so a prefix matcher over the buffered bytes decides the same thing
/// without a regex engine. A signature that names `requires-reverse-signature` holds only once
/// the named one matched the other direction; one with `enable` starts that analyzer.
///
/// Adding a protocol is adding rows: its client and server signatures, the server naming the
/// client as its reverse and enabling the protocol's ``AnalyzerKind``.
public enum ContentProbe {
    /// One byte of a signature.
    public enum ByteClass: Sendable {
        /// Exactly this byte.
        case byte(UInt8)
        /// Either byte (a letter in either case: `[sS]`).
        case either(UInt8, UInt8)
        /// A byte in `lo...hi` (`[0-9]`, `[\x00-\x03]`).
        case range(UInt8, UInt8)
        /// A byte outside `lo...hi` (`[^0-9]`).
        case notRange(UInt8, UInt8)
        /// Any byte (`.`).
        case any

        func matches(_ b: UInt8) -> Bool {
            switch self {
            case .byte(let x): b == x
            case .either(let x, let y): b == x || b == y
            case .range(let lo, let hi): b >= lo && b <= hi
            case .notRange(let lo, let hi): b < lo || b > hi
            case .any: true
            }
        }
    }

    /// Filler a signature skips before its bytes (`[[:space:]]*`), or none.
    public enum Filler: Sendable {
        case none
        /// POSIX `[[:space:]]`: space, `\t`, `\n`, `\v`, `\f`, `\r`.
        case space

        func contains(_ b: UInt8) -> Bool {
            switch self {
            case .none: false
            case .space: b == 0x20 || (b >= 0x09 && b <= 0x0D)
            }
        }
    }

    /// One `dpd.sig` signature.
    public struct Signature: Sendable {
        /// Zeek's signature name (for tests and documentation).
        public let name: StaticString
        /// `tcp-state originator` (true) or `tcp-state responder` (false).
        public let originator: Bool
        /// What may precede the pattern.
        public let filler: Filler
        /// The pattern's alternatives (`(GET|HEAD|POST)`); any one matching is a match.
        public let alternatives: [[ByteClass]]
        /// `requires-reverse-signature`: index in ``signatures`` of the signature that must have
        /// matched the other direction.
        public let requiresReverse: Int?
        /// `enable`: the analyzer this signature starts.
        public let enables: AnalyzerKind?
    }

    /// The outcome of matching one signature against the bytes a direction sent so far.
    public enum Match: Sendable, Equatable {
        case match
        case noMatch
        /// Every byte so far fits; more bytes decide.
        case needMore
    }

    static func text(_ s: StaticString) -> [ByteClass] {
        UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount).map { .byte($0) }
    }

    /// Zeek's DPD signatures, by the protocols whose analyzers exist here.
    ///
    /// HTTP (`base/protocols/http/dpd.sig`): `dpd_http_client` is `^[[:space:]]*(GET|HEAD|POST)`
    /// from the originator (the trailing `[[:space:]]*` accepts zero bytes, so it adds nothing);
    /// `dpd_http_server` is `^HTTP\/[0-9]` from the responder, requires the client signature,
    /// and enables HTTP.
    public static let signatures: [Signature] = [
        Signature(
            name: "dpd_http_client", originator: true, filler: .space,
            alternatives: [text("GET"), text("HEAD"), text("POST")], requiresReverse: nil, enables: nil),
        Signature(
            name: "dpd_http_server", originator: false, filler: .none,
            alternatives: [text("HTTP/") + [.range(0x30, 0x39)]], requiresReverse: 0, enables: .http),
        Signature(
            name: "dpd_ssl_client", originator: true, filler: .none,
            alternatives: [
                [.byte(0x16), .byte(0x03), .range(0, 3), .any, .any, .byte(0x01), .any, .any, .any, .byte(0x03),
                 .range(0, 3)],
                [.any, .any, .byte(0x01), .either(0, 3), .range(0, 4)],
                [.any, .any, .any, .byte(0x01), .either(0, 3), .range(0, 4)],
            ], requiresReverse: nil, enables: nil),
        Signature(
            name: "dpd_ssl_server", originator: false, filler: .none,
            alternatives: sslServerHello.flatMap { [$0, alertPrefix + $0] } + [
                [.any, .any, .byte(0x04), .any, .any, .byte(0x00), .byte(0x02)],
                [.any, .any, .any, .byte(0x04), .any, .any, .byte(0x00), .byte(0x02)],
            ], requiresReverse: 2, enables: .ssl),
        Signature(
            name: "dpd_ssh_server", originator: false, filler: .none,
            alternatives: [sshBanner], requiresReverse: nil, enables: nil),
        Signature(
            name: "dpd_ssh_client", originator: true, filler: .none,
            alternatives: [sshBanner], requiresReverse: 4, enables: .ssh),
    ]

    /// SSL (`base/protocols/ssl/dpd.sig`): a TLS record holding a server hello whose version is
    /// SSL 3 / TLS 1.x (`\x03[\x00-\x03]`) or a TLS 1.3 draft (`\x7F[\x00-\x50]`).
    static let sslServerHello: [[ByteClass]] = [
        [.byte(0x16), .byte(0x03), .range(0, 3), .any, .any, .byte(0x02), .any, .any, .any, .byte(0x03), .range(0, 3)],
        [.byte(0x16), .byte(0x03), .range(0, 3), .any, .any, .byte(0x02), .any, .any, .any, .byte(0x7F),
         .range(0, 0x50)],
    ]
    /// The optional alert record (`(\x15\x03[\x00-\x03]....)?`) a server hello may follow.
    static let alertPrefix: [ByteClass] = [.byte(0x15), .byte(0x03), .range(0, 3), .any, .any, .any, .any]
    /// SSH (`base/protocols/ssh/dpd.sig`): `^[sS][sS][hH]-[12]\.` from both sides; the client's
    /// requires the server's and enables SSH.
    static let sshBanner: [ByteClass] = [
        .either(0x53, 0x73), .either(0x53, 0x73), .either(0x48, 0x68), .byte(0x2D), .range(0x31, 0x32), .byte(0x2E),
    ]

    /// Matches signature `s` against `bytes`, everything one direction sent from its start.
    public static func match(_ s: Signature, _ bytes: UnsafeRawBufferPointer) -> Match {
        var start = 0
        while start < bytes.count && s.filler.contains(bytes[start]) { start += 1 }
        var result = Match.noMatch
        for pattern in s.alternatives {
            var i = 0
            while i < pattern.count && start + i < bytes.count && pattern[i].matches(bytes[start + i]) { i += 1 }
            if i == pattern.count { return .match }
            if start + i == bytes.count { result = .needMore }
        }
        return result
    }
}
