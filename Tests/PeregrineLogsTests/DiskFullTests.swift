// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineLogs
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Log writing on a disk that fills up and frees again: a tmpfs of 64 KiB mounted for the test
/// (tests run as root, as in CI), half of it taken by a filler file that is removed to give the
/// room back.
@Suite(.serialized) struct DiskFullTests {
    static let schema = LogSchema(id: 0, path: "test", columns: [LogColumn("n", .count), LogColumn("text", .string)])
    /// 100 bytes of text, so a line is about 105 bytes.
    static let text = String(repeating: "x", count: 100)

    /// A 64 KiB tmpfs at a fresh directory, with a 32 KiB file `filler` in it.
    struct SmallDisk: ~Copyable {
        let directory: String
        var filler: String { directory + "/filler" }

        init() throws {
            directory = makeTemporaryDirectory()
            try #require(mount("tmpfs", directory, "tmpfs", 0, "size=64k") == 0, "mounting a tmpfs needs root")
            let fd = open(directory + "/filler", O_WRONLY | O_CREAT, 0o644)
            try #require(fd >= 0)
            let block = [UInt8](repeating: 0x2E, count: 32 * 1024)
            try #require(write(fd, block, block.count) == block.count)
            close(fd)
        }

        func freeRoom() { unlink(filler) }

        deinit {
            umount2(directory, Int32(MNT_DETACH))
            rmdir(directory)
        }
    }

    static func record(_ n: UInt64) -> LogRecordEncoder {
        var encoder = LogRecordEncoder(schema: schema)
        encoder.count(n)
        encoder.string(text)
        encoder.finish()
        return encoder
    }

    /// The numbers of the data lines of `file`, after checking that every line is whole and the
    /// header comes first.
    static func dataLines(_ file: String) throws -> [UInt64] {
        let content = try #require(readFile(file))
        #expect(content.hasPrefix("#separator \\x09\n"))
        #expect(content.hasSuffix("\n"), "the file ends in a whole line")
        var numbers: [UInt64] = []
        for line in content.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            #expect(fields.count == 2 && fields[1] == text, "whole line: \(line.prefix(40))")
            numbers.append(try #require(UInt64(fields[0])))
        }
        return numbers
    }

    @Test func aFailedWriteLeavesWholeLinesAndWritingResumesWhenThereIsRoom() throws {
        let disk = try SmallDisk()
        var writer = LogFileWriter(
            schema: Self.schema, directory: disk.directory, formatter: LogFormatter(options: LogOptions()),
            bufferCapacity: 1024)
        var sent: UInt64 = 0
        var failure: LogWriterError?
        while failure == nil && sent < 10_000 {
            do {
                try Self.record(sent).withBytes { try writer.write($0) }
            } catch let error as LogWriterError {
                failure = error
            }
            sent += 1
        }
        #expect(failure?.errno == ENOSPC)
        let before = try Self.dataLines(disk.directory + "/test.log")
        #expect(before == Array(0..<UInt64(before.count)), "the lines written are the first records, in order")
        #expect(writer.lostRecords == sent - UInt64(before.count))
        #expect(writer.lostRecords > 0)

        disk.freeRoom()
        for n in UInt64(100_000)..<100_010 { try Self.record(n).withBytes { try writer.write($0) } }
        try writer.close()
        let after = try Self.dataLines(disk.directory + "/test.log")
        #expect(after == before + Array(100_000..<100_010))
        #expect(readFile(disk.directory + "/test.log")?.split(separator: "\n").last?.hasPrefix("#close\t") == true)
        #expect(writer.lostRecords == sent - UInt64(before.count), "nothing more lost once there was room")
    }

    @Test func theWriterThreadCountsLostRecordsReportsBothTurnsAndKeepsDraining() throws {
        let disk = try SmallDisk()
        let ring = ByteRing(capacity: 1 << 20)
        let notices = Mutex<[String]>([])
        let thread = LogWriterThread(
            rings: [ring],
            writers: LogWriterSet(
                directory: disk.directory, schemas: [Self.schema, ReporterLog.schema], bufferCapacity: 1024),
            reporter: ReporterLog.schema, notice: { line in notices.withLock { $0.append(line) } })
        thread.start()
        func send(_ range: Range<UInt64>) {
            for n in range { Self.record(n).withBytes { ring.write(tag: UInt32(Self.schema.id), bytes: $0) } }
        }
        func wait(until condition: () -> Bool) throws {
            var tries = 0
            while !condition() {
                tries += 1
                try #require(tries < 500, "waited 5 s at least")
                usleep(10_000)
            }
        }
        // About 30 KiB of room: 1,000 lines (105 KB) cannot fit.
        send(0..<1_000)
        try wait { thread.health.failing.load(ordering: .relaxed) }
        disk.freeRoom()
        // Records keep coming, one every 20 ms (far less than the room freed); after the retry
        // pause they are written again.
        var next: UInt64 = 1_000
        try wait {
            send(next..<next + 1)
            next += 1
            usleep(20_000)
            return !thread.health.failing.load(ordering: .relaxed)
        }
        send(next..<next + 5)
        next += 5
        ring.close()
        let summary = thread.finish()

        let lines = try Self.dataLines(disk.directory + "/test.log")
        #expect(summary.lostRecords > 0)
        #expect(summary.lostRecords == next - UInt64(lines.count), "every record is written or counted as lost")
        #expect(summary.firstError?.errno == ENOSPC)
        #expect(lines.suffix(5) == Array(next - 5..<next), "the last records, sent after recovery, are written")
        #expect(thread.health.failures.load(ordering: .relaxed) == 1)
        let said = notices.withLock { $0 }
        #expect(said.count == 2)
        #expect(said.first?.hasPrefix("log writes failing: cannot write \(disk.directory)/test.log: No space left") == true)
        #expect(said.last?.contains("log writes work again after") == true)
        #expect(said.last?.contains("\(summary.lostRecords) records lost") == true)
        let reporter = try #require(readFile(disk.directory + "/reporter.log"))
        #expect(reporter.contains("Reporter::WARNING\tlog writes work again after"))
    }
}
