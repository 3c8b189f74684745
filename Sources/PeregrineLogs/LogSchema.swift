// SPDX-License-Identifier: Apache-2.0

/// One column of a log stream: its Zeek name (`id.orig_h`, flattened with dots) and its type.
public struct LogColumn: Sendable, Equatable {
    /// The column name exactly as Zeek writes it in `#fields` and as JSON keys.
    public let name: String
    /// The Zeek type written in `#types`.
    public let type: LogFieldType

    /// Creates a column.
    public init(_ name: String, _ type: LogFieldType) {
        self.name = name
        self.type = type
    }
}

/// The shape of one log stream (`conn`, `weird`, `tunnel` ...): its path and its ordered columns.
///
/// Schemas are built once at start-up and shared by the workers (which encode records against them)
/// and the writer thread (which formats them). The header lines `#fields`/`#types` and every JSON key
/// are prepared here once, so formatting a record never builds a `String`.
public final class LogSchema: Sendable {
    /// A stable numeric id for the stream; records travel with it through the log ring.
    public let id: UInt16
    /// The stream's path: the file name without `.log`, written in `#path`.
    public let path: String
    /// The columns in log order.
    public let columns: [LogColumn]

    /// `"name":` for each column, UTF-8, ready for the JSON formatter.
    let jsonKeys: [[UInt8]]
    /// The `#fields` line, newline included.
    let fieldsLine: [UInt8]
    /// The `#types` line, newline included.
    let typesLine: [UInt8]

    /// Creates a schema.
    ///
    /// - Parameters:
    ///   - id: the stream id, unique among the streams of one ``LogWriterSet``.
    ///   - path: the log path as Zeek spells it (`conn`, `known_services`).
    ///   - columns: the columns in order; names as in Zeek's `#fields`.
    public init(id: UInt16, path: String, columns: [LogColumn]) {
        precondition(!columns.isEmpty, "a log stream needs at least one column")
        self.id = id
        self.path = path
        self.columns = columns
        jsonKeys = columns.map { column in
            var key: [UInt8] = [UInt8(ascii: "\"")]
            JSONEscaping.appendEscapedKey(column.name, to: &key)
            key.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            return key
        }
        fieldsLine = Array(("#fields\t" + columns.map(\.name).joined(separator: "\t") + "\n").utf8)
        typesLine = Array(("#types\t" + columns.map(\.type.zeekName).joined(separator: "\t") + "\n").utf8)
    }
}
