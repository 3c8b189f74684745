// SPDX-License-Identifier: Apache-2.0
import Crypto
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs

/// The native counterpart of Zeek's `base/files/x509/main.zeek`: one x509.log record per
/// certificate, de-duplicated as Zeek does by default.
///
/// De-duplication: a certificate with the same (SHA-256 fingerprint, `host_cert`, `client_cert`)
/// is logged again only after `X509::relog_known_certificates_after` (1 day), measured from when
/// it was first logged (`&create_expire`). The table holds at most
/// `X509::known_log_certs_maximum_size` entries; past that every certificate is logged, as Zeek
/// does when the set is full.
public struct X509Log {
    /// x509.log's columns, in Zeek 9's order (`zeek-logs.md` §7).
    public static let schema = LogSchema(
        id: 21, path: "x509",
        columns: [
            LogColumn("ts", .time), LogColumn("fingerprint", .string), LogColumn("certificate.version", .count),
            LogColumn("certificate.serial", .string), LogColumn("certificate.subject", .string),
            LogColumn("certificate.issuer", .string), LogColumn("certificate.not_valid_before", .time),
            LogColumn("certificate.not_valid_after", .time), LogColumn("certificate.key_alg", .string),
            LogColumn("certificate.sig_alg", .string), LogColumn("certificate.key_type", .string),
            LogColumn("certificate.key_length", .count), LogColumn("certificate.exponent", .string),
            LogColumn("certificate.curve", .string), LogColumn("san.dns", .vector(.string)),
            LogColumn("san.uri", .vector(.string)), LogColumn("san.email", .vector(.string)),
            LogColumn("san.ip", .vector(.addr)), LogColumn("basic_constraints.ca", .bool),
            LogColumn("basic_constraints.path_len", .count), LogColumn("host_cert", .bool),
            LogColumn("client_cert", .bool),
        ])

    /// `X509::relog_known_certificates_after`.
    public static let relogAfter = Interval.seconds(86_400)
    /// `X509::known_log_certs_maximum_size`.
    public static let maximumKnown = 1_000_000

    struct Key: Hashable {
        var fingerprint: String
        var host: Bool
        var client: Bool
    }

    /// When each known certificate was logged.
    var known: [Key: Timestamp] = [:]
    var record = LogRecordEncoder(schema: X509Log.schema)
    /// Records written.
    public private(set) var records: UInt64 = 0
    /// Certificates not logged because they were logged recently.
    public private(set) var deduplicated: UInt64 = 0
    /// Certificates whose DER did not parse (Zeek's `x509_error`; not logged).
    public private(set) var unparsable: UInt64 = 0

    public init() {}

    /// The lower-case hex SHA-256 of `der`: x509.log's `fingerprint` and ssl.log's chain entries.
    public static func fingerprint(_ der: UnsafeRawBufferPointer) -> String {
        let digest = SHA256.hash(data: der)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        let digits = Array("0123456789abcdef".utf8)
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Logs one certificate seen at `now` unless it is a recent duplicate.
    /// - Parameter parsed: the certificate, or `nil` when its DER did not parse.
    public mutating func certificate(
        _ parsed: X509Certificate?, fingerprint: String, hostCert: Bool, clientCert: Bool, now: Timestamp,
        logs: inout LogStreams
    ) {
        let key = Key(fingerprint: fingerprint, host: hostCert, client: clientCert)
        if let seen = known[key], now.since(seen) < Self.relogAfter {
            deduplicated &+= 1
            return
        }
        guard let cert = parsed else {
            unparsable &+= 1
            return
        }
        if known.count < Self.maximumKnown || known[key] != nil { known[key] = now }
        var r = record
        r.reset()
        r.time(now)
        r.string(fingerprint)
        r.count(UInt64(cert.version))
        r.string(cert.serial)
        r.string(cert.subject)
        r.string(cert.issuer)
        r.time(Timestamp(seconds: cert.notValidBefore, nanoseconds: 0))
        r.time(Timestamp(seconds: cert.notValidAfter, nanoseconds: 0))
        r.string(cert.keyAlgorithm)
        r.string(cert.signatureAlgorithm)
        if let v = cert.keyType { r.string(v) } else { r.unset() }
        if let v = cert.keyLength { r.count(UInt64(v)) } else { r.unset() }
        if let v = cert.exponent { r.string(v) } else { r.unset() }
        if let v = cert.curve { r.string(v) } else { r.unset() }
        if let san = cert.san {
            Self.strings(san.dns, into: &r)
            Self.strings(san.uri, into: &r)
            Self.strings(san.email, into: &r)
            if san.ip.isEmpty {
                r.unset()
            } else {
                r.beginVector(count: san.ip.count)
                for ip in san.ip {
                    // The parser keeps only 4- or 16-byte addresses, so the base address exists.
                    ip.withUnsafeBytes { b in
                        guard let p = b.baseAddress else { return }
                        r.addr(ip.count == 4 ? IPAddress(ipv4At: p) : IPAddress(ipv6At: p))
                    }
                }
            }
        } else {
            for _ in 0..<4 { r.unset() }
        }
        if let bc = cert.basicConstraints {
            r.bool(bc.ca)
            if let p = bc.pathLength { r.count(UInt64(p)) } else { r.unset() }
        } else {
            r.unset()
            r.unset()
        }
        r.bool(hostCert)
        r.bool(clientCert)
        logs.write(r)
        record = r
        records &+= 1
    }

    /// A `vector[string]` column: unset when empty (Zeek leaves the optional field out).
    static func strings(_ values: [String], into r: inout LogRecordEncoder) {
        if values.isEmpty {
            r.unset()
            return
        }
        r.beginVector(count: values.count)
        for v in values { r.string(v) }
    }
}
