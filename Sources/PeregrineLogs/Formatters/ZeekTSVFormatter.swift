// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Formats records as Zeek's ASCII writer does with its default settings (zeek-logs.md §1):
/// TAB-separated columns, `,` between set/vector elements, `(empty)` and `-` markers, and the
/// `#`-header block and `#close` footer.
public struct ZeekTSVFormatter: Sendable {
    /// Creates the formatter (Zeek's default separators; they are not configurable here).
    public init() {}

    /// Appends the header block: `#separator` ... `#types`, with `#open` at `wallClockSeconds`
    /// rendered in local time as `%Y-%m-%d-%H-%M-%S`.
    public func appendHeader(schema: LogSchema, wallClockSeconds: Int, to out: inout [UInt8]) {
        out.append(ascii: "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t")
        out.append(contentsOf: schema.path.utf8)
        out.append(ascii: "\n#open\t")
        WallClock.appendLocalTime(wallClockSeconds, to: &out)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: schema.fieldsLine)
        out.append(contentsOf: schema.typesLine)
    }

    /// Appends the `#close` line with `wallClockSeconds` in local time.
    public func appendFooter(wallClockSeconds: Int, to out: inout [UInt8]) {
        out.append(ascii: "#close\t")
        WallClock.appendLocalTime(wallClockSeconds, to: &out)
        out.append(UInt8(ascii: "\n"))
    }

    /// Appends one record as a data line, newline included.
    ///
    /// - Parameters:
    ///   - record: bytes made by ``LogRecordEncoder`` for `schema`.
    ///   - schema: the record's schema.
    ///   - out: the buffer to append to.
    public func appendRecord(_ record: UnsafeRawBufferPointer, schema: LogSchema, to out: inout [UInt8]) {
        var reader = LogRecordReader(record)
        var first = true
        while let value = reader.next() {
            if !first { out.append(UInt8(ascii: "\t")) }
            first = false
            switch value {
            case .set(let count), .vector(let count):
                if count == 0 {
                    out.append(ascii: "(empty)")
                    continue
                }
                for index in 0..<count {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    guard let element = reader.next() else { preconditionFailure("truncated log record") }
                    appendScalar(element, inContainer: true, to: &out)
                }
            default:
                appendScalar(value, inContainer: false, to: &out)
            }
        }
        out.append(UInt8(ascii: "\n"))
    }

    private func appendScalar(_ value: LogValue, inContainer: Bool, to out: inout [UInt8]) {
        switch value {
        case .unset: out.append(UInt8(ascii: "-"))
        case .time(let t): out.appendFixed6(nanoseconds: t.nanoseconds)
        case .interval(let i): out.appendFixed6(nanoseconds: i.nanoseconds)
        case .double(let d): out.appendZeekDouble(d)
        case .count(let c): out.appendDecimal(c)
        case .int(let i): out.appendDecimal(i)
        case .port(let p): out.appendDecimal(UInt64(p))
        case .bool(let b): out.append(b ? UInt8(ascii: "T") : UInt8(ascii: "F"))
        case .addr(let a): out.appendAddress(a)
        case .subnet(let network, let length): out.appendSubnet(network, length128: length)
        case .string(let bytes), .enumValue(let bytes): appendString(bytes, inContainer: inContainer, to: &out)
        case .uid(let uid, let prefix): uid.write(prefix: prefix, to: &out)
        case .set, .vector: preconditionFailure("containers do not nest in logs")
        }
    }

    /// Zeek's `Ascii::Describe` for strings: `(empty)` for no bytes, the first byte hex-escaped when
    /// the value is exactly a marker (`escapeReservedContent`), otherwise the escaped bytes.
    private func appendString(_ bytes: UnsafeRawBufferPointer, inContainer: Bool, to out: inout [UInt8]) {
        if bytes.isEmpty {
            out.append(ascii: "(empty)")
            return
        }
        if Self.equals(bytes, "-") || Self.equals(bytes, "(empty)") {
            out.appendHexEscape(bytes[0])
            ZeekEscaping.appendTSV(UnsafeRawBufferPointer(rebasing: bytes[1...]), inContainer: inContainer, to: &out)
            return
        }
        ZeekEscaping.appendTSV(bytes, inContainer: inContainer, to: &out)
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { $0.count == bytes.count && $0.elementsEqual(bytes) }
    }
}
