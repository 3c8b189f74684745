// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCore
import PeregrineLogs
import Testing

@Suite struct LogArchiverTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-archive-\(UUID().uuidString)").path

    /// A log of a few thousand lines, alike enough to compress.
    func makeLog(_ name: String) throws -> (path: String, bytes: Data) {
        try FileManager.default.createDirectory(atPath: root + "/current", withIntermediateDirectories: true)
        var text = "#separator \\x09\n#path\tconn\n"
        for i in 0..<5_000 { text += "1700000000.\(100_000 + i)\tC\(i)\t10.0.0.\(i % 250)\t\(1024 + i)\t192.0.2.1\t443\ttcp\n" }
        let path = root + "/current/" + name
        let data = Data(text.utf8)
        try data.write(to: URL(fileURLWithPath: path))
        return (path, data)
    }

    /// Decompresses `path` with the system's own tool (gzip -dc, zstd -dc), or reads it.
    func contents(_ path: String, _ compression: LogCompression) throws -> Data {
        guard compression != .none else { return try Data(contentsOf: URL(fileURLWithPath: path)) }
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tool.arguments = [compression == .gzip ? "gzip" : "zstd", "-dc", path]
        let pipe = Pipe()
        tool.standardOutput = pipe
        try tool.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        tool.waitUntilExit()
        #expect(tool.terminationStatus == 0)
        return out
    }

    @Test(arguments: LogCompression.allCases)
    func archivesIntoADatedDirectoryWithZeekNames(_ compression: LogCompression) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (path, original) = try makeLog("conn.log")
        setenv("TZ", "UTC", 1)
        tzset()
        let archiver = LogArchiver(directory: root + "/archive", compression: compression)
        // 2023-11-14 22:13:20 to 23:13:20 UTC.
        let opened = Timestamp(nanoseconds: 1_700_000_000 * 1_000_000_000)
        let closed = opened.adding(.seconds(3600))
        let target = try archiver.archive(file: path, stream: "conn", opened: opened, closed: closed)
        #expect(target == root + "/archive/2023-11-14/conn.22:13:20-23:13:20.log" + compression.suffix)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: target + ".tmp"))
        #expect(try contents(target, compression) == original)
        if compression != .none {
            let size = try FileManager.default.attributesOfItem(atPath: target)[.size] as! Int
            #expect(size * 4 < original.count)
        }
    }

    /// A destination that cannot be created (under a regular file, which fails even for root):
    /// the error names it and the log stays where it was.
    @Test func aFailedArchiveLeavesTheLogInPlace() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (path, original) = try makeLog("dns.log")
        _ = FileManager.default.createFile(atPath: root + "/blocker", contents: Data("x".utf8))
        let archiver = LogArchiver(directory: root + "/blocker/archive", compression: .gzip)
        let error = #expect(throws: LogArchiveError.self) {
            try archiver.archive(file: path, stream: "dns", opened: Timestamp(nanoseconds: 0), closed: Timestamp(nanoseconds: 0))
        }
        #expect(error?.description.contains(root + "/blocker/archive") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)
    }

    @Test func pruneByAgeThenBySize() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let archiver = LogArchiver(directory: root, compression: .none)
        let now = Date().timeIntervalSince1970
        // Four files of 1,000 bytes, 4, 3, 2 and 1 days old, and one file the archiver does not name.
        for (i, age) in [4, 3, 2, 1].enumerated() {
            let day = root + "/2026-11-1\(i)"
            try FileManager.default.createDirectory(atPath: day, withIntermediateDirectories: true)
            let file = day + "/conn.00:00:00-01:00:00.log"
            _ = FileManager.default.createFile(atPath: file, contents: Data(count: 1_000))
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: now - Double(age) * 86_400 - 60)], ofItemAtPath: file)
        }
        _ = FileManager.default.createFile(atPath: root + "/2026-11-10/notes.txt", contents: Data(count: 10))
        let nowStamp = Timestamp(nanoseconds: Int64(now) * 1_000_000_000)
        // Older than 3.5 days: the 4-day-old file goes, and its day directory keeps notes.txt.
        #expect(archiver.prune(now: nowStamp, maxAge: .seconds(3 * 86_400 + 43_200), maxBytes: nil) == .init(files: 1, bytes: 1_000))
        #expect(FileManager.default.fileExists(atPath: root + "/2026-11-10/notes.txt"))
        // At most 1,500 bytes: the oldest of the remaining three go first, until one is left.
        #expect(archiver.prune(now: nowStamp, maxAge: nil, maxBytes: 1_500) == .init(files: 2, bytes: 2_000))
        #expect(!FileManager.default.fileExists(atPath: root + "/2026-11-11"))
        #expect(FileManager.default.fileExists(atPath: root + "/2026-11-13/conn.00:00:00-01:00:00.log"))
        #expect(archiver.prune(now: nowStamp, maxAge: nil, maxBytes: 1_500) == .init())
    }
}

/// Built-in rotation through the writer thread: every record written lands in exactly one archived,
/// compressed file, files are cut at the interval, and nothing stays in `current/`.
@Suite struct LogRotationTests {
    @Test func everyRecordEndsUpInOneArchivedFile() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-rotation-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/current", withIntermediateDirectories: true)
        let schema = LogSchema(id: 0, path: "conn", columns: [LogColumn("n", .count)])
        let ring = ByteRing(capacity: 1 << 16)
        let rotation = LogRotation(interval: 1, archiver: LogArchiver(directory: root, compression: .gzip))
        let writer = LogWriterThread(
            rings: [ring], writers: LogWriterSet(directory: root + "/current", schemas: [schema], options: LogOptions()),
            rotation: rotation)
        writer.start()
        // 2.6 s of records, one every 2 ms: at least two rotation times pass.
        var encoder = LogRecordEncoder(schema: schema)
        var written = 0
        let start = Date()
        while Date().timeIntervalSince(start) < 2.6 {
            encoder.reset()
            encoder.count(UInt64(written))
            encoder.withBytes { ring.write(tag: UInt32(schema.id), bytes: $0) }
            written += 1
            usleep(2_000)
        }
        ring.close()
        _ = writer.finish()
        #expect(rotation.failures == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/current").isEmpty)
        var files: [String] = []
        for day in try FileManager.default.contentsOfDirectory(atPath: root) where day != "current" {
            files += try FileManager.default.contentsOfDirectory(atPath: root + "/" + day).map { root + "/" + day + "/" + $0 }
        }
        #expect(files.count >= 3)
        #expect(rotation.archivedFiles == UInt64(files.count))
        var numbers: [Int] = []
        for file in files {
            #expect(file.hasSuffix(".log.gz"))
            let tool = Process()
            tool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            tool.arguments = ["gzip", "-dc", file]
            let pipe = Pipe()
            tool.standardOutput = pipe
            try tool.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            tool.waitUntilExit()
            let lines = text.split(separator: "\n")
            #expect(lines.first == "#separator \\x09" && lines.last?.hasPrefix("#close") == true)
            numbers += lines.filter { !$0.hasPrefix("#") }.compactMap { Int($0) }
        }
        #expect(numbers.sorted() == Array(0..<written))
    }
}
