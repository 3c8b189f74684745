// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Formats records as Zeek's JSON writer does (`LogAscii::use_json=T`, zeek-logs.md §22): one
/// object per line, keys in column order, no header and no footer.
public struct ZeekJSONFormatter: Sendable {
    /// How `time` values are written.
    public var timestamps: JSONTimestampFormat
    /// Whether unset fields are written as `null` rather than omitted.
    public var includeUnsetFields: Bool

    /// Creates the formatter; the defaults are Zeek's.
    public init(timestamps: JSONTimestampFormat = .epoch, includeUnsetFields: Bool = false) {
        self.timestamps = timestamps
        self.includeUnsetFields = includeUnsetFields
    }

    /// Appends one record as a JSON object and a newline.
    ///
    /// - Parameters:
    ///   - record: bytes made by ``LogRecordEncoder`` for `schema`.
    ///   - schema: the record's schema (for the keys).
    ///   - out: the buffer to append to.
    public func appendRecord(_ record: UnsafeRawBufferPointer, schema: LogSchema, to out: inout [UInt8]) {
        var reader = LogRecordReader(record)
        var column = 0
        var first = true
        out.append(UInt8(ascii: "{"))
        while let value = reader.next() {
            defer { column += 1 }
            if case .unset = value, !includeUnsetFields { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: schema.jsonKeys[column])
            switch value {
            case .set(let count), .vector(let count):
                out.append(UInt8(ascii: "["))
                for index in 0..<count {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    guard let element = reader.next() else { preconditionFailure("truncated log record") }
                    appendScalar(element, to: &out)
                }
                out.append(UInt8(ascii: "]"))
            default:
                appendScalar(value, to: &out)
            }
        }
        out.append(ascii: "}\n")
    }

    private func appendScalar(_ value: LogValue, to out: inout [UInt8]) {
        switch value {
        case .unset: out.append(ascii: "null")
        case .time(let t): appendTime(t, to: &out)
        case .interval(let i): out.appendShortestDouble(Double(i.nanoseconds) / 1e9)
        case .double(let d): out.appendShortestDouble(d)
        case .count(let c): out.appendDecimal(c)
        case .int(let i): out.appendDecimal(i)
        case .port(let p): out.appendDecimal(UInt64(p))
        case .bool(let b): out.append(ascii: b ? "true" : "false")
        case .addr(let a):
            out.append(UInt8(ascii: "\""))
            out.appendAddress(a)
            out.append(UInt8(ascii: "\""))
        case .subnet(let network, let length):
            out.append(UInt8(ascii: "\""))
            out.appendSubnet(network, length128: length)
            out.append(UInt8(ascii: "\""))
        case .string(let bytes), .enumValue(let bytes):
            out.append(UInt8(ascii: "\""))
            ZeekEscaping.appendJSON(bytes, to: &out)
            out.append(UInt8(ascii: "\""))
        case .uid(let uid, let prefix):
            out.append(UInt8(ascii: "\""))
            uid.write(prefix: prefix, to: &out)
            out.append(UInt8(ascii: "\""))
        case .set, .vector: preconditionFailure("containers do not nest in logs")
        }
    }

    private func appendTime(_ time: Timestamp, to out: inout [UInt8]) {
        switch timestamps {
        case .epoch:
            out.appendShortestDouble([UInt8].zeekSeconds(time.nanoseconds))
        case .millis:
            // Zeek: int64_t(seconds * 1000), truncating toward zero.
            out.appendDecimal(Int64(([UInt8].zeekSeconds(time.nanoseconds) * 1000).rounded(.towardZero)))
        case .millisUnsigned:
            let millis = ([UInt8].zeekSeconds(time.nanoseconds) * 1000).rounded(.towardZero)
            out.appendDecimal(millis < 0 ? UInt64(bitPattern: Int64(millis)) : UInt64(millis))
        case .iso8601:
            out.append(UInt8(ascii: "\""))
            out.appendISO8601(nanoseconds: time.nanoseconds)
            out.append(UInt8(ascii: "\""))
        }
    }
}

/// The formatter a writer set uses: a closed choice, switched on per record (no existential).
public enum LogFormatter: Sendable {
    /// Zeek TSV.
    case tsv(ZeekTSVFormatter)
    /// Zeek JSON lines.
    case json(ZeekJSONFormatter)

    /// The formatter for `options`.
    public init(options: LogOptions) {
        if options.useJSON {
            self = .json(ZeekJSONFormatter(timestamps: options.jsonTimestamps, includeUnsetFields: options.jsonIncludeUnsetFields))
        } else {
            self = .tsv(ZeekTSVFormatter())
        }
    }

    /// Appends what starts a new file (the TSV header; nothing for JSON).
    public func appendHeader(schema: LogSchema, wallClockSeconds: Int, to out: inout [UInt8]) {
        if case .tsv(let formatter) = self {
            formatter.appendHeader(schema: schema, wallClockSeconds: wallClockSeconds, to: &out)
        }
    }

    /// Appends one record's line.
    @inline(__always)
    public func appendRecord(_ record: UnsafeRawBufferPointer, schema: LogSchema, to out: inout [UInt8]) {
        switch self {
        case .tsv(let formatter): formatter.appendRecord(record, schema: schema, to: &out)
        case .json(let formatter): formatter.appendRecord(record, schema: schema, to: &out)
        }
    }

    /// Appends what ends a closed file (the TSV `#close` line; nothing for JSON).
    public func appendFooter(wallClockSeconds: Int, to out: inout [UInt8]) {
        if case .tsv(let formatter) = self {
            formatter.appendFooter(wallClockSeconds: wallClockSeconds, to: &out)
        }
    }
}
