// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Decodes one NTP datagram into an `NTPMessage`, accepting exactly what Zeek's NTP analyzer
/// (binpac, `src/analyzer/protocol/ntp/ntp-protocol.pac` and `ntp-mode7.pac`) accepts.
///
/// A datagram Zeek's parser cannot read (too short for its mode's fixed part, an extension field
/// or a mode 6/7 data area running past the end) returns `nil`: Zeek reports that as an analyzer
/// violation and raises no `ntp_message` event. Bytes after the parsed structure are ignored, as
/// Zeek ignores them. Pure: no allocation, reads only inside `bytes`.
public enum NTPParser {
    /// Length of the mode 1-5 fixed part, first byte included (RFC 5905 Figure 8).
    public static let standardLength = 48
    /// A MAC of this many bytes (key id + digest) or fewer may follow the last extension field;
    /// Zeek treats any longer tail as extension fields (RFC 7822 §7.5 uses the same cut-off).
    static let macTailLimit = 24
    /// Fixed part of an RFC 5906 extension field before its value: flags/code (1), type (1),
    /// length (2), association id (2), timestamp (4), filestamp (4), value length (4).
    static let extensionFixedLength = 18

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> NTPMessage? {
        let c = ByteCursor(bytes)
        guard let first = c.getUInt8(at: 0) else { return nil }
        var message = NTPMessage(leap: first >> 6, version: (first >> 3) & 7, mode: first & 7, standard: nil)
        switch message.mode {
        case 1...5:
            guard let standard = parseStandard(c) else { return nil }
            message.standard = standard
        case 6:
            // Control message (RFC 1119 appendix B): 11 more header bytes, then `count` data bytes.
            guard let count = c.getUInt16(at: 10), bytes.count >= 12 + Int(count) else { return nil }
        case 7:
            // Private message (ntpd's ntp_request.h): 4 header bytes, then the data area whose length
            // Zeek takes from the low 12 bits of the item-count word, then a MAC when the A bit is set.
            guard let flags = c.getUInt8(at: 1), let items = c.getUInt16(at: 4) else { return nil }
            let needed = 6 + Int(items & 0x0FFF) + (flags & 0x80 != 0 ? 20 : 0)
            guard bytes.count >= needed else { return nil }
        default:
            break  // Mode 0 (reserved): Zeek keeps the rest as opaque bytes.
        }
        return message
    }

    static func parseStandard(_ c: ByteCursor) -> NTPStandardMessage? {
        guard c.base.count >= standardLength, let p = c.base.baseAddress else { return nil }
        func u64(_ at: Int) -> UInt64 { UInt64(bigEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        func u32(_ at: Int) -> UInt32 { UInt32(bigEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        let b = c.base
        var extensions = 0
        var offset = standardLength
        // Extension fields are present only when more than a MAC's worth of bytes follows; they are
        // read until at most a MAC's worth is left. Each must fit whole: its value and signature as
        // long as their length words say, then padding up to the field's own length.
        if b.count - offset > macTailLimit {
            while b.count - offset > macTailLimit {
                guard let length = c.getUInt16(at: offset + 2), let valueLength = c.getUInt32(at: offset + 14)
                else { return nil }
                var end = offset + extensionFixedLength
                guard Int(valueLength) <= b.count - end else { return nil }
                end += Int(valueLength)
                guard let signatureLength = c.getUInt32(at: end), Int(signatureLength) <= b.count - end - 4
                else { return nil }
                end += 4 + Int(signatureLength)
                let padded = offset + Int(length)
                if padded > end {
                    guard padded <= b.count else { return nil }
                    end = padded
                }
                offset = end
                extensions += 1
            }
        }
        return NTPStandardMessage(
            stratum: b[1], poll: Int8(bitPattern: b[2]), precision: Int8(bitPattern: b[3]), rootDelay: u32(4),
            rootDispersion: u32(8), referenceID: (b[12], b[13], b[14], b[15]), referenceTime: u64(16),
            originTime: u64(24), receiveTime: u64(32), transmitTime: u64(40), extensionCount: extensions)
    }
}
