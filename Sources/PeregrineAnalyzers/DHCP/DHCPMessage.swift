// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// One DHCP message (RFC 2131): the BOOTP header and the options dhcp.log uses, as Zeek's DHCP
/// analyzer hands them to `dhcp_message` (`DHCP::Msg`, `DHCP::Options`).
public struct DHCPMessage: Equatable, Sendable {
    /// `op`: 1 BOOTREQUEST, 2 BOOTREPLY.
    public var op: UInt8
    /// Option 53, the DHCP message type (1 DISCOVER ... 18 TLS); 0 when the option is missing,
    /// which Zeek reports as a violation and still hands on (`unknown-message-type-0`).
    public var messageType: UInt8
    /// The transaction id that ties a client's messages and the servers' replies together.
    public var transactionID: UInt32
    /// `ciaddr`, `yiaddr` (the address the server assigns), as IPv4 values.
    public var clientAddress: UInt32
    public var yourAddress: UInt32
    /// `chaddr` as Zeek's `fmt_mac` writes its 16 bytes: six colon-separated bytes when bytes 6
    /// and 7 are zero, eight otherwise.
    public var clientHardwareAddress: String
    /// Option 12, as sent.
    public var hostName: [UInt8]?
    /// Option 15, cut after its last non-NUL byte (Zeek's rule, which empties a one-byte name).
    public var domainName: [UInt8]?
    /// Option 50.
    public var requestedAddress: UInt32?
    /// Option 51, seconds.
    public var leaseSeconds: UInt32?
    /// Option 56, as sent.
    public var message: [UInt8]?
    /// Option 61: hardware type and the address `fmt_mac` makes of the rest.
    public struct ClientID: Equatable, Sendable {
        public var hardwareType: UInt8
        public var address: String
    }
    public var clientID: ClientID?
    /// Option 81's domain name bytes, as sent (Zeek does not decode the wire form).
    public var clientFQDN: [UInt8]?

    /// Zeek's `DHCP::message_types` name of `type`, or `unknown-message-type-N`.
    public static func typeName(_ type: UInt8) -> String {
        switch type {
        case 1: "DISCOVER"
        case 2: "OFFER"
        case 3: "REQUEST"
        case 4: "DECLINE"
        case 5: "ACK"
        case 6: "NAK"
        case 7: "RELEASE"
        case 8: "INFORM"
        case 9: "FORCERENEW"
        case 10: "LEASEQUERY"
        case 11: "LEASEUNASSIGNED"
        case 12: "LEASEUNKNOWN"
        case 13: "LEASEACTIVE"
        case 14: "BULKLEASEQUERY"
        case 15: "LEASEQUERYDONE"
        case 16: "ACTIVELEASEQUERY"
        case 17: "LEASEQUERYSTATUS"
        case 18: "TLS"
        default: "unknown-message-type-\(type)"
        }
    }
}

/// Parses DHCP messages as Zeek's binpac grammar does (`dhcp-protocol.pac`, `dhcp-options.pac`).
public enum DHCPParser {
    /// Why a datagram is not a DHCP message Zeek would report (an analyzer violation).
    public enum Failure: Error, Equatable, Sendable {
        /// Shorter than the fixed header and cookie, an option running past the end, or no End
        /// option (binpac reads options until code 255 and fails at the end of the data).
        case truncated
        /// The magic cookie is not 99.130.83.99 ("bad cookie").
        case badCookie
        /// A fixed-size option (addresses, times, the message type) shorter than its value.
        case badOptionLength(UInt8)
    }

    /// The fixed BOOTP header: op ... file, 236 bytes; then the 4-byte cookie.
    static let headerLength = 236
    static let cookie: UInt32 = 0x6382_5363

    public static func parse(_ payload: UnsafeRawBufferPointer) -> Result<DHCPMessage, Failure> {
        guard payload.count >= headerLength + 4 else { return .failure(.truncated) }
        func u32(_ at: Int) -> UInt32 {
            UInt32(payload[at]) << 24 | UInt32(payload[at + 1]) << 16 | UInt32(payload[at + 2]) << 8 | UInt32(payload[at + 3])
        }
        guard u32(headerLength) == cookie else { return .failure(.badCookie) }
        var m = DHCPMessage(
            op: payload[0], messageType: 0, transactionID: u32(4), clientAddress: u32(12), yourAddress: u32(16),
            clientHardwareAddress: formatMAC(UnsafeRawBufferPointer(rebasing: payload[28..<44])))
        var at = headerLength + 4
        var ended = false
        while at < payload.count {
            let code = payload[at]
            at += 1
            if code == 0 { continue }
            if code == 255 {
                ended = true
                break
            }
            guard at < payload.count else { return .failure(.truncated) }
            let length = Int(payload[at])
            at += 1
            guard at + length <= payload.count else { return .failure(.truncated) }
            let value = UnsafeRawBufferPointer(rebasing: payload[at..<(at + length)])
            at += length
            switch code {
            case 53:
                guard length >= 1 else { return .failure(.badOptionLength(code)) }
                m.messageType = value[0]
            case 12:
                m.hostName = Array(value)
            case 15:
                // Up to the last non-NUL byte; when that is the first byte (or there is none), empty.
                var last = 0
                for i in 0..<length where value[i] != 0 { last = i }
                m.domainName = last == 0 ? [] : Array(value[0...last])
            case 50, 51:
                guard length >= 4 else { return .failure(.badOptionLength(code)) }
                let v = UInt32(value[0]) << 24 | UInt32(value[1]) << 16 | UInt32(value[2]) << 8 | UInt32(value[3])
                if code == 50 { m.requestedAddress = v } else { m.leaseSeconds = v }
            case 56:
                m.message = Array(value)
            case 61:
                guard length >= 1 else { return .failure(.badOptionLength(code)) }
                m.clientID = DHCPMessage.ClientID(hardwareType: value[0], address: formatMAC(UnsafeRawBufferPointer(rebasing: value[1...])))
            case 81:
                guard length >= 3 else { return .failure(.badOptionLength(code)) }
                m.clientFQDN = Array(value[3...])
            default:
                break
            }
        }
        guard ended else { return .failure(.truncated) }
        return .success(m)
    }

    /// Zeek's `fmt_mac`: nothing for fewer than 8 bytes unless exactly 6; six bytes when there are
    /// 6, or when bytes 6 and 7 are zero; else eight. Lowercase hex, colon-separated.
    static func formatMAC(_ bytes: UnsafeRawBufferPointer) -> String {
        let n = bytes.count
        if n < 8 && n != 6 { return "" }
        let count = n == 6 || (bytes[6] == 0 && bytes[7] == 0) ? 6 : 8
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 3)
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ":")) }
            out.append(digits[Int(bytes[i] >> 4)])
            out.append(digits[Int(bytes[i] & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
