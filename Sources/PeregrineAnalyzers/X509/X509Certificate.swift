// SPDX-License-Identifier: Apache-2.0
import SwiftASN1

/// The fields of one X.509 certificate (RFC 5280 §4.1) that Zeek's X509 file analyzer puts in
/// x509.log, rendered as Zeek (through OpenSSL) renders them.
///
/// Parsing walks the DER tree with swift-asn1 rather than building swift-certificates'
/// `Certificate`, because that type refuses certificates whose key algorithm it does not support
/// (DSA, for one), which Zeek still logs. It runs once per certificate, not per packet, so the
/// `String`s here are fine.
public struct X509Certificate: Sendable, Equatable {
    /// `certificate.version`: 1, 2 or 3.
    public var version = 1
    /// `certificate.serial`: upper-case hex of the serial's magnitude.
    public var serial = ""
    /// `certificate.subject` / `issuer`: OpenSSL's RFC 2253 one-line form, most specific first.
    public var subject = ""
    public var issuer = ""
    /// Validity, seconds since the epoch (UTC).
    public var notValidBefore: Int64 = 0
    public var notValidAfter: Int64 = 0
    /// `certificate.key_alg`: the public key algorithm's OpenSSL long name (`rsaEncryption`).
    public var keyAlgorithm = ""
    /// `certificate.sig_alg`: the signature algorithm's OpenSSL long name.
    public var signatureAlgorithm = ""
    /// `certificate.key_type`: `rsa`, `dsa` or `ecdsa`; `nil` for other key types.
    public var keyType: String? = nil
    /// `certificate.key_length` in bits.
    public var keyLength: Int? = nil
    /// `certificate.exponent` (RSA), decimal.
    public var exponent: String? = nil
    /// `certificate.curve` (EC keys): OpenSSL's short curve name.
    public var curve: String? = nil
    /// Subject alternative names by kind; `nil` when the certificate has no SAN extension.
    public var san: SubjectAlternativeNames? = nil
    /// Basic constraints; `nil` when the extension is absent.
    public var basicConstraints: BasicConstraints? = nil

    /// RFC 5280 §4.2.1.6, the kinds x509.log keeps.
    public struct SubjectAlternativeNames: Sendable, Equatable {
        public var dns: [String] = []
        public var uri: [String] = []
        public var email: [String] = []
        /// IPv4 (4 bytes) or IPv6 (16 bytes) addresses, raw.
        public var ip: [[UInt8]] = []
    }

    /// RFC 5280 §4.2.1.9.
    public struct BasicConstraints: Sendable, Equatable {
        public var ca = false
        public var pathLength: Int? = nil
    }

    public init() {}

    /// Parses DER bytes.
    /// - Returns: `nil` for bytes that are not a certificate (Zeek raises `x509_error` and logs
    ///   nothing for them).
    public static func parse(der: [UInt8]) -> X509Certificate? {
        guard let root = try? DER.parse(der), let top = children(root), top.count >= 3,
            let tbs = children(top[0])
        else { return nil }
        var cert = X509Certificate()
        var i = 0
        if tbs.first?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            if let v = children(tbs[0])?.first, let n = primitive(v), let last = n.last { cert.version = Int(last) + 1 }
            i = 1
        }
        guard tbs.count >= i + 6, let serial = primitive(tbs[i]) else { return nil }
        cert.serial = hex(magnitude(serial))
        cert.issuer = distinguishedName(tbs[i + 2])
        if let validity = children(tbs[i + 3]), validity.count == 2 {
            cert.notValidBefore = time(validity[0]) ?? 0
            cert.notValidAfter = time(validity[1]) ?? 0
        }
        cert.subject = distinguishedName(tbs[i + 4])
        cert.publicKey(tbs[i + 5])
        if let sig = children(top[1])?.first, let oid = try? ASN1ObjectIdentifier(derEncoded: sig) {
            cert.signatureAlgorithm = longName(oid)
        }
        for node in tbs[(i + 6)...]
        where node.identifier == ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific) {
            if let list = children(node)?.first, let exts = children(list) { cert.extensions(exts) }
        }
        return cert
    }

    // MARK: - Public key

    mutating func publicKey(_ spki: ASN1Node) {
        guard let parts = Self.children(spki), parts.count == 2, let alg = Self.children(parts[0]),
            let first = alg.first, let oid = try? ASN1ObjectIdentifier(derEncoded: first)
        else { return }
        keyAlgorithm = Self.longName(oid)
        let bits = Self.primitive(parts[1]).map { $0.dropFirst() } ?? []
        switch oid.description {
        case "1.2.840.113549.1.1.1":
            keyType = "rsa"
            if let key = try? DER.parse(Array(bits)), let ints = Self.children(key), ints.count >= 2,
                let modulus = Self.primitive(ints[0]), let e = Self.primitive(ints[1])
            {
                keyLength = Self.bitLength(Self.magnitude(modulus))
                exponent = Self.decimal(Self.magnitude(e))
            }
        case "1.2.840.10040.4.1":
            keyType = "dsa"
            if alg.count > 1, let params = Self.children(alg[1]), let p = params.first.flatMap(Self.primitive) {
                keyLength = Self.bitLength(Self.magnitude(p))
            }
        case "1.2.840.10045.2.1":
            keyType = "ecdsa"
            if alg.count > 1, let c = try? ASN1ObjectIdentifier(derEncoded: alg[1]) {
                switch c.description {
                case "1.2.840.10045.3.1.7": (curve, keyLength) = ("prime256v1", 256)
                case "1.3.132.0.34": (curve, keyLength) = ("secp384r1", 384)
                case "1.3.132.0.35": (curve, keyLength) = ("secp521r1", 521)
                case "1.2.840.10045.3.1.1": (curve, keyLength) = ("prime192v1", 192)
                case "1.3.132.0.33": (curve, keyLength) = ("secp224r1", 224)
                case "1.3.132.0.10": (curve, keyLength) = ("secp256k1", 256)
                default: curve = c.description
                }
            }
        default:
            break
        }
    }

    // MARK: - Extensions

    mutating func extensions(_ list: [ASN1Node]) {
        for ext in list {
            guard let parts = Self.children(ext), parts.count >= 2,
                let oid = try? ASN1ObjectIdentifier(derEncoded: parts[0]),
                let value = Self.primitive(parts[parts.count - 1]), let inner = try? DER.parse(value)
            else { continue }
            switch oid.description {
            case "2.5.29.17":
                var names = SubjectAlternativeNames()
                for name in Self.children(inner) ?? [] where name.identifier.tagClass == .contextSpecific {
                    guard let bytes = Self.primitive(name) else { continue }
                    switch name.identifier.tagNumber {
                    case 1: names.email.append(String(decoding: bytes, as: UTF8.self))
                    case 2: names.dns.append(String(decoding: bytes, as: UTF8.self))
                    case 6: names.uri.append(String(decoding: bytes, as: UTF8.self))
                    case 7 where bytes.count == 4 || bytes.count == 16: names.ip.append(Array(bytes))
                    default: break
                    }
                }
                san = names
            case "2.5.29.19":
                var bc = BasicConstraints()
                for node in Self.children(inner) ?? [] {
                    guard let bytes = Self.primitive(node) else { continue }
                    if node.identifier == .boolean {
                        bc.ca = bytes.first.map { $0 != 0 } ?? false
                    } else if node.identifier == .integer {
                        bc.pathLength = Int(Self.decimal(Self.magnitude(bytes))) ?? nil
                    }
                }
                basicConstraints = bc
            default:
                break
            }
        }
    }

    // MARK: - Names

    /// OpenSSL's `X509_NAME_print_ex` with `XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB` (what Zeek
    /// uses): RDNs in reverse order joined by `,`, multi-valued RDNs by `+`, short attribute names,
    /// RFC 2253 escaping, and unknown attribute types as their dotted OID with the value in `#hex`.
    static func distinguishedName(_ node: ASN1Node) -> String {
        var rdns: [String] = []
        for set in children(node) ?? [] {
            var attrs: [String] = []
            for attr in children(set) ?? [] {
                guard let pair = children(attr), pair.count == 2,
                    let oid = try? ASN1ObjectIdentifier(derEncoded: pair[0])
                else { continue }
                let name = shortAttributeName(oid)
                let value: String
                if name != nil, let bytes = primitive(pair[1]) {
                    value = escape(decodeString(bytes, tag: pair[1].identifier))
                } else {
                    value = "#" + hex(pair[1].encodedBytes).lowercased()
                }
                attrs.append((name ?? oid.description) + "=" + value)
            }
            rdns.append(attrs.joined(separator: "+"))
        }
        return rdns.reversed().joined(separator: ",")
    }

    /// OpenSSL's short names for the attribute types certificates use.
    static func shortAttributeName(_ oid: ASN1ObjectIdentifier) -> String? {
        switch oid.description {
        case "2.5.4.3": "CN"
        case "2.5.4.4": "SN"
        case "2.5.4.5": "serialNumber"
        case "2.5.4.6": "C"
        case "2.5.4.7": "L"
        case "2.5.4.8": "ST"
        case "2.5.4.9": "street"
        case "2.5.4.10": "O"
        case "2.5.4.11": "OU"
        case "2.5.4.12": "title"
        case "2.5.4.13": "description"
        case "2.5.4.15": "businessCategory"
        case "2.5.4.17": "postalCode"
        case "2.5.4.41": "name"
        case "2.5.4.42": "GN"
        case "2.5.4.43": "initials"
        case "2.5.4.44": "generationQualifier"
        case "2.5.4.46": "dnQualifier"
        case "2.5.4.65": "pseudonym"
        case "2.5.4.97": "organizationIdentifier"
        case "1.2.840.113549.1.9.1": "emailAddress"
        case "0.9.2342.19200300.100.1.1": "UID"
        case "0.9.2342.19200300.100.1.25": "DC"
        case "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL"
        case "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST"
        case "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC"
        default: nil
        }
    }

    /// A directory string's text: BMPString is UCS-2 big-endian, UniversalString UCS-4; the other
    /// string types are read as UTF-8 (OpenSSL's `ASN1_STRFLGS_UTF8_CONVERT`).
    static func decodeString(_ bytes: ArraySlice<UInt8>, tag: ASN1Identifier) -> String {
        let units: Int
        switch tag.tagNumber {
        case 30: units = 2
        case 28: units = 4
        default: return String(decoding: bytes, as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        var i = bytes.startIndex
        while i + units <= bytes.endIndex {
            var v: UInt32 = 0
            for k in 0..<units { v = v << 8 | UInt32(bytes[i + k]) }
            scalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            i += units
        }
        return String(scalars)
    }

    /// RFC 2253 §2.4 escaping as OpenSSL applies it: `, + " \ < > ;` anywhere, `#` or a space at
    /// the start, a space at the end, and control characters as `\XX`.
    static func escape(_ s: String) -> String {
        var out = ""
        let chars = Array(s.unicodeScalars)
        for (i, c) in chars.enumerated() {
            switch c {
            case ",", "+", "\"", "\\", "<", ">", ";":
                out.append("\\")
                out.unicodeScalars.append(c)
            case "#" where i == 0, " " where i == 0 || i == chars.count - 1:
                out.append("\\")
                out.unicodeScalars.append(c)
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    out.append("\\" + hex([UInt8(c.value)]))
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    /// OpenSSL's long names (`OBJ_obj2txt` without `no_name`) of the key and signature algorithms
    /// in use; others are written as the dotted OID, as OpenSSL does for unknown objects.
    static func longName(_ oid: ASN1ObjectIdentifier) -> String {
        switch oid.description {
        case "1.2.840.113549.1.1.1": "rsaEncryption"
        case "1.2.840.113549.1.1.2": "md2WithRSAEncryption"
        case "1.2.840.113549.1.1.4": "md5WithRSAEncryption"
        case "1.2.840.113549.1.1.5": "sha1WithRSAEncryption"
        case "1.2.840.113549.1.1.10": "rsassaPss"
        case "1.2.840.113549.1.1.11": "sha256WithRSAEncryption"
        case "1.2.840.113549.1.1.12": "sha384WithRSAEncryption"
        case "1.2.840.113549.1.1.13": "sha512WithRSAEncryption"
        case "1.2.840.113549.1.1.14": "sha224WithRSAEncryption"
        case "1.2.840.10045.2.1": "id-ecPublicKey"
        case "1.2.840.10045.4.1": "ecdsa-with-SHA1"
        case "1.2.840.10045.4.3.1": "ecdsa-with-SHA224"
        case "1.2.840.10045.4.3.2": "ecdsa-with-SHA256"
        case "1.2.840.10045.4.3.3": "ecdsa-with-SHA384"
        case "1.2.840.10045.4.3.4": "ecdsa-with-SHA512"
        case "1.2.840.10040.4.1": "dsaEncryption"
        case "1.2.840.10040.4.3": "dsaWithSHA1"
        case "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256"
        case "1.3.101.112": "ED25519"
        case "1.3.101.113": "ED448"
        case let other: other
        }
    }

    // MARK: - DER helpers

    static func children(_ node: ASN1Node) -> [ASN1Node]? {
        guard case .constructed(let c) = node.content else { return nil }
        return Array(c)
    }

    static func primitive(_ node: ASN1Node) -> ArraySlice<UInt8>? {
        guard case .primitive(let p) = node.content else { return nil }
        return p
    }

    /// An INTEGER's content without the sign-padding zero bytes.
    static func magnitude(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var b = bytes
        while b.count > 1, b.first == 0 { b = b.dropFirst() }
        return b
    }

    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bitLength(_ bytes: ArraySlice<UInt8>) -> Int {
        guard let first = bytes.first, first != 0 else { return 0 }
        return (bytes.count - 1) * 8 + (8 - first.leadingZeroBitCount)
    }

    /// Decimal rendering of an unsigned big-endian integer (RSA exponents are small, but any
    /// length works).
    static func decimal(_ bytes: ArraySlice<UInt8>) -> String {
        var digits: [UInt8] = []
        var n = Array(bytes)
        while n.contains(where: { $0 != 0 }) {
            var rem = 0
            for i in n.indices {
                let v = rem << 8 | Int(n[i])
                n[i] = UInt8(v / 10)
                rem = v % 10
            }
            digits.append(UInt8(ascii: "0") + UInt8(rem))
        }
        return digits.isEmpty ? "0" : String(decoding: digits.reversed(), as: UTF8.self)
    }

    /// UTCTime (`YYMMDDHHMMSSZ`, RFC 5280 §4.1.2.5.1: years 50-99 are 19xx) or GeneralizedTime
    /// (`YYYYMMDDHHMMSSZ`) as seconds since the epoch.
    static func time(_ node: ASN1Node) -> Int64? {
        guard let bytes = primitive(node) else { return nil }
        let d = Array(bytes)
        func num(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= d.count else { return nil }
            var v = 0
            for k in at..<(at + n) {
                guard d[k] >= 0x30 && d[k] <= 0x39 else { return nil }
                v = v * 10 + Int(d[k] - 0x30)
            }
            return v
        }
        let year: Int
        let rest: Int
        if node.identifier == .utcTime {
            guard let yy = num(0, 2) else { return nil }
            year = yy >= 50 ? 1900 + yy : 2000 + yy
            rest = 2
        } else {
            guard let yyyy = num(0, 4) else { return nil }
            year = yyyy
            rest = 4
        }
        guard let month = num(rest, 2), let day = num(rest + 2, 2), let hour = num(rest + 4, 2),
            let minute = num(rest + 6, 2)
        else { return nil }
        let second = num(rest + 8, 2) ?? 0
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
