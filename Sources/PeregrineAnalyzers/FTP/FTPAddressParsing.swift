// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// The endpoint an FTP `PORT`/`EPRT` command or `PASV`/`EPSV` reply announces: Zeek's
/// `parse_ftp_port`, `parse_eftp_port`, `parse_ftp_pasv` and `parse_ftp_epsv`
/// (`src/analyzer/protocol/ftp/functions.bif`).
public struct FTPEndpoint: Equatable, Sendable {
    /// The announced address; `nil` for an extended (`EPRT`/`EPSV`) form that left it empty
    /// (Zeek's `[::]`, which the caller replaces with the server's address).
    public var address: IPAddress?
    public var port: UInt16

    public init(address: IPAddress?, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `h1,h2,h3,h4,p1,p2` (RFC 959 `PORT`), each a decimal 0-255.
    public static func parsePort(_ text: UnsafeRawBufferPointer) -> FTPEndpoint? {
        var values: [UInt32] = []
        var i = 0
        while values.count < 6 {
            while i < text.count && (text[i] == 0x20 || text[i] == 0x09) { i += 1 }
            var v: UInt32 = 0
            var digits = 0
            while i < text.count, text[i] >= 0x30, text[i] <= 0x39, digits < 4 {
                v = v * 10 + UInt32(text[i] - 0x30)
                digits += 1
                i += 1
            }
            guard digits > 0, v <= 255 else { return nil }
            values.append(v)
            if values.count < 6 {
                guard i < text.count, text[i] == 0x2C else { return nil }
                i += 1
            }
        }
        let address = IPAddress(ipv4: values[0] << 24 | values[1] << 16 | values[2] << 8 | values[3])
        return FTPEndpoint(address: address, port: UInt16(values[4] << 8 | values[5]))
    }

    /// A `227` reply: the six numbers after `(`, or after the first digit when there is no `(`.
    public static func parsePassive(_ message: UnsafeRawBufferPointer) -> FTPEndpoint? {
        var start = 0
        if let paren = message.firstIndex(of: 0x28) {
            start = paren + 1
        } else {
            while start < message.count && !(message[start] >= 0x30 && message[start] <= 0x39) { start += 1 }
        }
        return parsePort(UnsafeRawBufferPointer(rebasing: message[start...]))
    }

    /// `<d>proto<d>address<d>port<d>` (RFC 2428 `EPRT`, and `EPSV`'s reply inside parentheses),
    /// where `<d>` is any delimiter character the text starts with.
    public static func parseExtended(_ text: UnsafeRawBufferPointer) -> FTPEndpoint? {
        var i = 0
        while i < text.count && text[i] == 0x20 { i += 1 }
        guard i < text.count else { return nil }
        let delimiter = text[i]
        var fields: [Range<Int>] = []
        var fieldStart = i + 1
        for j in (i + 1)..<text.count where text[j] == delimiter {
            fields.append(fieldStart..<j)
            fieldStart = j + 1
            if fields.count == 3 { break }
        }
        guard fields.count == 3 else { return nil }
        var address: IPAddress? = nil
        if !fields[1].isEmpty {
            let bytes = UnsafeRawBufferPointer(rebasing: text[fields[1]])
            guard let a = IPAddress(Substring(decoding: bytes, as: UTF8.self)) else { return nil }
            address = a
        }
        var port: UInt32 = 0
        guard !fields[2].isEmpty, fields[2].count <= 5 else { return nil }
        for j in fields[2] {
            guard text[j] >= 0x30 && text[j] <= 0x39 else { return nil }
            port = port * 10 + UInt32(text[j] - 0x30)
        }
        guard port <= 65535 else { return nil }
        return FTPEndpoint(address: address, port: UInt16(port))
    }

    /// A `229` reply: the extended form inside its parentheses.
    public static func parseExtendedPassive(_ message: UnsafeRawBufferPointer) -> FTPEndpoint? {
        guard let paren = message.firstIndex(of: 0x28) else { return nil }
        return parseExtended(UnsafeRawBufferPointer(rebasing: message[(paren + 1)...]))
    }
}
