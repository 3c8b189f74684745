// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineLogs
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct LogWriterSetTests {
    static let tunnel = LogSchema(id: 2, path: "tunnel", columns: [
        LogColumn("ts", .time), LogColumn("uid", .string), LogColumn("id.orig_h", .addr),
        LogColumn("id.orig_p", .port), LogColumn("id.resp_h", .addr), LogColumn("id.resp_p", .port),
        LogColumn("tunnel_type", .enum), LogColumn("action", .enum),
    ])
    static let weird = LogSchema(id: 5, path: "weird", columns: [
        LogColumn("ts", .time), LogColumn("name", .string),
    ])

    /// Masks what btest's canonifier masks: the first epoch-shaped token and the `#open`/`#close` values.
    private func canonify(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if line.hasPrefix("#open\t") || line.hasPrefix("#open ") { return "#open XXXX-XX-XX-XX-XX-XX" }
            if line.hasPrefix("#close\t") || line.hasPrefix("#close ") { return "#close XXXX-XX-XX-XX-XX-XX" }
            if !line.hasPrefix("#"), let tab = line.firstIndex(of: "\t") {
                return "XXXXXXXXXX.XXXXXX" + line[tab...]
            }
            return String(line)
        }
    }

    /// Writes the rows of the corpus' vxlan tunnel.log and compares the whole file, header for header
    /// and line for line (uids written as text, as the baseline has them).
    @Test func tunnelLogMatchesCorpusBaseline() throws {
        let baseline = try #require(readFile("/work/shared/corpus/zeek/vxlan/tunnel.log"))
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        var writers = LogWriterSet(directory: directory, schemas: [Self.tunnel, Self.weird])
        let a = try #require(IPAddress("192.168.56.11"))
        let b = try #require(IPAddress("192.168.56.12"))
        let rows: [(String, IPAddress, UInt16, IPAddress, StaticString)] = [
            ("C4J4Th3PJpwUYZZ6gc", a, 48134, b, "Tunnel::DISCOVER"),
            ("CUM0KZ3MLUfNB0cl11", b, 38071, a, "Tunnel::DISCOVER"),
            ("CUM0KZ3MLUfNB0cl11", b, 38071, a, "Tunnel::CLOSE"),
            ("C4J4Th3PJpwUYZZ6gc", a, 48134, b, "Tunnel::CLOSE"),
        ]
        var encoder = LogRecordEncoder(schema: Self.tunnel)
        for (index, row) in rows.enumerated() {
            encoder.reset()
            encoder.time(Timestamp(seconds: 1_400_000_000 + Int64(index), nanoseconds: 123_000))
            encoder.string(row.0)
            encoder.addr(row.1)
            encoder.port(row.2)
            encoder.addr(row.3)
            encoder.port(4789)
            encoder.enumValue("Tunnel::VXLAN")
            encoder.enumValue(row.4)
            try writers.write(encoder)
        }
        try writers.closeAll()
        let written = try #require(readFile(directory + "/tunnel.log"))
        // Line 1 of a baseline is btest's marker, not Zeek output.
        let expected = Array(canonify(baseline).dropFirst())
        let actual = canonify(written)
        #expect(actual.count == expected.count)
        for (got, want) in zip(actual, expected) {
            #expect(got == want)
        }
        #expect(!fileExists(directory + "/weird.log"))
        // Unmasked: the real header lines and the 6-decimal time.
        let lines = written.split(separator: "\n")
        #expect(lines[0] == "#separator \\x09")
        #expect(lines[5].hasPrefix("#open\t"))
        #expect(lines[8].hasPrefix("1400000000.000123\tC4J4Th3PJpwUYZZ6gc\t"))
        #expect(lines.last?.hasPrefix("#close\t") == true)
    }

    @Test func openAndCloseUseTheWallClockInLocalTime() throws {
        setenv("TZ", "UTC", 1)
        tzset()
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        var now = 1_787_338_630  // 2026-08-21 18:57:10 UTC
        var writers = LogWriterSet(directory: directory, schemas: [Self.weird], clock: { now })
        var encoder = LogRecordEncoder(schema: Self.weird)
        encoder.time(Timestamp(seconds: 1, nanoseconds: 0))
        encoder.string("bad_TCP_checksum")
        try writers.write(encoder)
        now += 1
        try writers.closeAll()
        let text = try #require(readFile(directory + "/weird.log"))
        #expect(text == """
            #separator \\x09
            #set_separator\t,
            #empty_field\t(empty)
            #unset_field\t-
            #path\tweird
            #open\t2026-08-21-18-57-10
            #fields\tts\tname
            #types\ttime\tstring
            1.000000\tbad_TCP_checksum
            #close\t2026-08-21-18-57-11

            """)
    }

    /// External rotation: the file was moved away, the reopen ends it with `#close`, and the next
    /// record starts a new file with its header. A file that was not moved is appended to.
    @Test func reopenClosesTheMovedFileAndTheNextRecordStartsANewOne() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        var writers = LogWriterSet(directory: directory, schemas: [Self.tunnel, Self.weird])
        var encoder = LogRecordEncoder(schema: Self.weird)
        func weird(_ name: String) throws {
            encoder.reset()
            encoder.time(.zero)
            encoder.string(name)
            try writers.write(encoder)
        }
        try writers.reopenAll()  // nothing open: nothing happens
        #expect(!fileExists(directory + "/weird.log"))
        try weird("first")
        #expect(rename(directory + "/weird.log", directory + "/weird.1.log") == 0)
        try writers.reopenAll()
        #expect(!fileExists(directory + "/weird.log") && !fileExists(directory + "/tunnel.log"))
        try weird("second")
        try writers.reopenAll()  // not moved: appended to
        try weird("third")
        try writers.closeAll()
        let old = try #require(readFile(directory + "/weird.1.log")).split(separator: "\n")
        let new = try #require(readFile(directory + "/weird.log")).split(separator: "\n")
        #expect(old.first == "#separator \\x09" && old.last?.hasPrefix("#close\t") == true)
        #expect(old.filter { !$0.hasPrefix("#") } == ["0.000000\tfirst"])
        #expect(new.filter { $0.hasPrefix("#separator") }.count == 2)
        #expect(new.filter { $0.hasPrefix("#close") }.count == 2 && new.last?.hasPrefix("#close\t") == true)
        #expect(new.filter { !$0.hasPrefix("#") } == ["0.000000\tsecond", "0.000000\tthird"])
    }

    /// `logs.disabled` of the configuration file: the disabled stream's records are dropped before
    /// formatting and its file never appears; the other streams are written as before.
    @Test func disabledStreamsAreDroppedUnformatted() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        var writers = LogWriterSet(directory: directory, schemas: [Self.tunnel, Self.weird], disabledPaths: ["tunnel"])
        #expect(writers.disabledPaths == ["tunnel"])
        var tunnel = LogRecordEncoder(schema: Self.tunnel)
        tunnel.time(.zero)
        tunnel.string("C4J4Th3PJpwUYZZ6gc")
        tunnel.addr(try #require(IPAddress("192.168.56.11")))
        tunnel.port(48134)
        tunnel.addr(try #require(IPAddress("192.168.56.12")))
        tunnel.port(4789)
        tunnel.enumValue("Tunnel::VXLAN")
        tunnel.enumValue("Tunnel::DISCOVER")
        #expect(try writers.write(tunnel) == false)
        var weird = LogRecordEncoder(schema: Self.weird)
        weird.time(.zero)
        weird.string("x")
        #expect(try writers.write(weird) == true)
        try writers.closeAll()
        #expect(!fileExists(directory + "/tunnel.log"))
        #expect(readFile(directory + "/weird.log")?.contains("0.000000\tx\n") == true)

        // Through a ring and the writer thread: the dropped records are counted apart.
        let ring = ByteRing(capacity: 1 << 16)
        let thread = LogWriterThread(
            rings: [ring],
            writers: LogWriterSet(directory: directory, schemas: [Self.tunnel, Self.weird], disabledPaths: ["tunnel"]))
        thread.start()
        for encoder in [tunnel, weird, tunnel] {
            encoder.withBytes { ring.write(tag: UInt32(encoder.schema.id), bytes: $0) }
        }
        ring.close()
        let summary = thread.finish()
        #expect(summary.records == 1 && summary.disabledRecords == 2 && summary.lostRecords == 0)
    }

    @Test func filesAreCreatedLazily() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        var writers = LogWriterSet(directory: directory, schemas: [Self.tunnel, Self.weird])
        try writers.flush()
        #expect(!fileExists(directory + "/tunnel.log"))
        #expect(!fileExists(directory + "/weird.log"))
        var encoder = LogRecordEncoder(schema: Self.weird)
        encoder.time(.zero)
        encoder.string("x")
        try writers.write(encoder)
        #expect(fileExists(directory + "/weird.log"))
        #expect(!fileExists(directory + "/tunnel.log"))
        try writers.closeAll()
        #expect(!fileExists(directory + "/tunnel.log"))
    }

    @Test func closeWritesCloseLineLastAndFlushWritesData() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        var writers = LogWriterSet(directory: directory, schemas: [Self.weird])
        var encoder = LogRecordEncoder(schema: Self.weird)
        encoder.time(.zero)
        encoder.string("x")
        try writers.write(encoder)
        #expect(readFile(directory + "/weird.log") == "")  // still buffered
        try writers.flush()
        let flushed = try #require(readFile(directory + "/weird.log"))
        #expect(flushed.hasSuffix("0.000000\tx\n"))
        #expect(!flushed.contains("#close"))
        try writers.closeAll()
        let closed = try #require(readFile(directory + "/weird.log"))
        #expect(closed.split(separator: "\n").last?.hasPrefix("#close\t") == true)
    }

    @Test func thousandsOfRecordsReadBack() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let schema = LogSchema(id: 0, path: "conn", columns: [
            LogColumn("ts", .time), LogColumn("uid", .string), LogColumn("id.orig_h", .addr),
            LogColumn("n", .count), LogColumn("tunnel_parents", .set(.string)),
        ])
        var writers = LogWriterSet(directory: directory, schemas: [schema], bufferCapacity: 4096)
        var encoder = LogRecordEncoder(schema: schema)
        var generator = UIDGenerator(seed: 7)
        var expected: [String] = []
        let count = 5000
        for i in 0..<count {
            let uid = generator.nextUID()
            encoder.reset()
            encoder.time(Timestamp(seconds: 1_300_000_000 + Int64(i), nanoseconds: Int64(i % 1000) * 1000))
            encoder.uid(uid, prefix: "C")
            encoder.addr(IPAddress(ipv4: 0x0A00_0000 | UInt32(i)))
            encoder.count(UInt64(i) * 1000)
            encoder.beginSet(count: i % 3)
            for j in 0..<(i % 3) { encoder.string("p\(j)") }
            try writers.write(encoder)
            let ip = "10.0.\((i >> 8) & 0xFF).\(i & 0xFF)"
            let fraction = String(i % 1000)
            let micros = String(repeating: "0", count: 6 - fraction.count) + fraction
            let parents = i % 3 == 0 ? "(empty)" : (0..<(i % 3)).map { "p\($0)" }.joined(separator: ",")
            expected.append("\(1_300_000_000 + i).\(micros)\t\(uid.string(prefix: "C"))\t\(ip)\t\(i * 1000)\t\(parents)")
        }
        try writers.closeAll()
        let text = try #require(readFile(directory + "/conn.log"))
        let data = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        #expect(data.count == count)
        #expect(data == expected)
    }

    @Test func jsonFilesHaveNoHeaderOrFooter() throws {
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        var writers = LogWriterSet(directory: directory, schemas: [Self.weird], options: LogOptions(useJSON: true))
        var encoder = LogRecordEncoder(schema: Self.weird)
        encoder.time(Timestamp(seconds: 100, nanoseconds: 0))
        encoder.string("x")
        try writers.write(encoder)
        try writers.closeAll()
        #expect(readFile(directory + "/weird.log") == "{\"ts\":100.0,\"name\":\"x\"}\n")
    }

    @Test func unwritableDirectoryNamesFileAndReason() throws {
        var writers = LogWriterSet(directory: "/nonexistent-peregrine-dir", schemas: [Self.weird])
        var encoder = LogRecordEncoder(schema: Self.weird)
        encoder.time(.zero)
        encoder.string("x")
        let error = #expect(throws: LogWriterError.self) { try writers.write(encoder) }
        #expect(error?.path == "/nonexistent-peregrine-dir/weird.log")
        #expect(error?.errno == ENOENT)
        #expect(error?.description == "cannot create /nonexistent-peregrine-dir/weird.log: No such file or directory (errno 2)")
    }

    @Test func diskFullIsReported() throws {
        // <dir>/full.log is a link to /dev/full, which fails every write(2) with ENOSPC.
        let directory = makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        guard symlink("/dev/full", directory + "/full.log") == 0 else { return }
        let schema = LogSchema(id: 0, path: "full", columns: [LogColumn("v", .count)])
        var writers = LogWriterSet(directory: directory, schemas: [schema])
        var encoder = LogRecordEncoder(schema: schema)
        encoder.count(1)
        try writers.write(encoder)  // buffered
        let error = #expect(throws: LogWriterError.self) { try writers.flush() }
        #expect(error?.operation == "write")
        #expect(error?.path == directory + "/full.log")
        #expect(error?.errno == ENOSPC)
    }
}
