// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineLogs

#if canImport(Glibc)
import Glibc
#endif

/// A one-column schema of `type`.
func singleColumn(_ type: LogFieldType, name: String = "v") -> LogSchema {
    LogSchema(id: 0, path: "test", columns: [LogColumn(name, type)])
}

/// Encodes one record with `body` and returns the TSV data line without its newline.
func tsv(_ schema: LogSchema, _ body: (inout LogRecordEncoder) -> Void) -> String {
    var encoder = LogRecordEncoder(schema: schema)
    body(&encoder)
    encoder.finish()
    var out: [UInt8] = []
    encoder.bytes.withUnsafeBytes { ZeekTSVFormatter().appendRecord($0, schema: schema, to: &out) }
    return String(decoding: out.dropLast(), as: UTF8.self)
}

/// Encodes one record with `body` and returns the JSON line without its newline.
func json(
    _ schema: LogSchema,
    timestamps: JSONTimestampFormat = .epoch,
    includeUnset: Bool = false,
    _ body: (inout LogRecordEncoder) -> Void
) -> String {
    var encoder = LogRecordEncoder(schema: schema)
    body(&encoder)
    encoder.finish()
    var out: [UInt8] = []
    let formatter = ZeekJSONFormatter(timestamps: timestamps, includeUnsetFields: includeUnset)
    encoder.bytes.withUnsafeBytes { formatter.appendRecord($0, schema: schema, to: &out) }
    return String(decoding: out.dropLast(), as: UTF8.self)
}

/// A fresh empty directory under /tmp.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/peregrine-logs-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
    return path.map { String(cString: $0) } ?? "/tmp"
}

/// The contents of a file, or `nil` if it does not exist.
func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// True if `path` exists.
func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Removes a test directory and its files.
func removeDirectory(_ path: String) {
    if let dir = opendir(path) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { unlink(path + "/" + name) }
        }
        closedir(dir)
    }
    rmdir(path)
}
