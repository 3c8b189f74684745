// SPDX-License-Identifier: Apache-2.0
import Crypto
import PeregrineCore

/// Community ID flow hashing, version 1 (https://github.com/corelight/community-id-spec), the
/// value Zeek's `community_id_v1()` writes into conn.log's optional `community_id` column.
///
/// The hash input is: the 2-byte seed, the two addresses (4 or 16 bytes each), the IP protocol,
/// one zero byte of padding, and the two ports (for ICMP: type and counterpart type, or code for
/// one-way messages), all in network order, with the endpoints ordered so that both directions
/// give the same value, except one-way ICMP, which keeps its direction. The output is `1:` and the
/// base64 of the SHA-1 digest. Computed once per connection, when its record is built.
public enum CommunityID {
    /// The Community ID of a connection given as Zeek's conn id.
    public static func v1(
        seed: UInt16, originator: IPAddress, originatorPort: UInt16, responder: IPAddress, responderPort: UInt16,
        transportProtocol: UInt8, oneWayICMP: Bool
    ) -> String {
        var a = (originator, originatorPort), b = (responder, responderPort)
        let isICMP = transportProtocol == 1 || transportProtocol == 58
        let ordered = a.0 < b.0 || (a.0 == b.0 && a.1 <= b.1)
        if !(isICMP && oneWayICMP) && !ordered { swap(&a, &b) }
        var input: [UInt8] = [UInt8(seed >> 8), UInt8(seed & 0xFF)]
        let v4 = originator.isIPv4 && responder.isIPv4
        for addr in [a.0, b.0] {
            let bytes = addr.bytes
            input += v4 ? Array(bytes[12...]) : bytes
        }
        input += [transportProtocol, 0, UInt8(a.1 >> 8), UInt8(a.1 & 0xFF), UInt8(b.1 >> 8), UInt8(b.1 & 0xFF)]
        let digest = Insecure.SHA1.hash(data: input)
        return "1:" + base64(Array(digest))
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [table[Int(n >> 18)], table[Int((n >> 12) & 63)], table[Int((n >> 6) & 63)], table[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [table[Int(n >> 18)], table[Int((n >> 12) & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [table[Int(n >> 18)], table[Int((n >> 12) & 63)], table[Int((n >> 6) & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
