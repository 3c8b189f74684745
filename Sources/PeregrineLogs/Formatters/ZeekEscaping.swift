// SPDX-License-Identifier: Apache-2.0

/// Zeek's string escaping for TSV (`ODesc::AddBytes` with UTF-8 enabled) and JSON
/// (`util::escape_utf8` followed by RapidJSON's string writer).
enum ZeekEscaping {
    /// The length of the valid UTF-8 sequence of two or more bytes starting at `i`, or 0 if the
    /// byte at `i` does not start one (ASCII, a stray continuation byte, an overlong form, a
    /// surrogate, a value above U+10FFFF, or a sequence cut short by the end of the value).
    /// The rules are RFC 3629's, as in Zeek's `isLegalUTF8Sequence`.
    @inline(__always)
    static func utf8SequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int {
        let b0 = bytes[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard i + length <= bytes.count else { return 0 }
        let b1 = bytes[i + 1]
        guard b1 >= low && b1 <= high else { return 0 }
        for j in 2..<length where bytes[i + j] & 0xC0 != 0x80 { return 0 }
        return length
    }

    /// Appends a TSV string value's bytes, escaped as Zeek's ASCII writer does.
    ///
    /// Printable ASCII and valid multi-byte UTF-8 are copied; a backslash is doubled (Zeek's
    /// `get_escaped_string` for the `\` its `FirstEscapeLoc` stops at, which keeps a literal `\x07`
    /// apart from an escaped byte); TAB (the separator) and other control bytes, DEL and invalid
    /// UTF-8 bytes become `\xNN`; inside a set or vector the set separator `,` becomes `\x2c`.
    static func appendTSV(_ bytes: UnsafeRawBufferPointer, inContainer: Bool, to out: inout [UInt8]) {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b >= 0x20 && b < 0x7F {
                if b == UInt8(ascii: "\\") {
                    out.append(b)
                    out.append(b)
                } else if inContainer && b == UInt8(ascii: ",") {
                    out.appendHexEscape(b)
                } else {
                    out.append(b)
                }
                i += 1
            } else if b >= 0x80, case let length = utf8SequenceLength(bytes, at: i), length > 0 {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<i + length]))
                i += length
            } else {
                out.appendHexEscape(b)
                i += 1
            }
        }
    }

    /// Appends a JSON string's content (without quotes) as Zeek's JSON writer does.
    ///
    /// `escape_utf8` first renders control bytes other than `\b \t \n \f \r`, DEL and invalid UTF-8
    /// bytes as the four characters `\xNN`; RapidJSON then escapes `"` and `\` (so those become
    /// `\\xNN` in the file) and writes the five remaining controls as `\b \t \n \f \r`.
    static func appendJSON(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(b)
                i += 1
            case 0x20..<0x7F:
                out.append(b)
                i += 1
            case 0x08: out.append(ascii: "\\b"); i += 1
            case 0x09: out.append(ascii: "\\t"); i += 1
            case 0x0A: out.append(ascii: "\\n"); i += 1
            case 0x0C: out.append(ascii: "\\f"); i += 1
            case 0x0D: out.append(ascii: "\\r"); i += 1
            default:
                let length = b >= 0x80 ? utf8SequenceLength(bytes, at: i) : 0
                if length > 0 {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<i + length]))
                    i += length
                } else {
                    out.append(UInt8(ascii: "\\"))
                    out.appendHexEscape(b)
                    i += 1
                }
            }
        }
    }
}

/// JSON escaping of column names, done once per schema.
enum JSONEscaping {
    /// Appends `name` escaped as a JSON string's content.
    static func appendEscapedKey(_ name: String, to out: inout [UInt8]) {
        var name = name
        name.withUTF8 { ZeekEscaping.appendJSON(UnsafeRawBufferPointer($0), to: &out) }
    }
}
