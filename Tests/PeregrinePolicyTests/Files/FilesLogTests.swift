// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import Testing

@testable import PeregrinePolicy

@Suite struct FilesLogTests {
    let conn = FilesLog.ConnectionRef(
        uid: ConnectionUID(word0: 1, word1: 2), originator: .zero, originatorPort: 1, responder: .zero,
        responderPort: 80)

    @Test func theSameHandleGivesTheSameFuidAndTheSeedChangesIt() {
        let a = FilesLog(seed: 7), b = FilesLog(seed: 7), c = FilesLog(seed: 8)
        let handle = Array("HTTP-T-10.0.0.1-/file".utf8)
        #expect(a.fuid(handle: handle) == b.fuid(handle: handle))
        #expect(a.fuid(handle: handle) != c.fuid(handle: handle))
        #expect(a.fuid(handle: handle) != a.fuid(handle: handle + [0]))
        #expect(a.fuid(handle: handle).string(prefix: "F").hasPrefix("F"))
    }

    @Test func piecesOutOfOrderCountSeenBytesAndHolesAsMissing() throws {
        let files = FilesLog(seed: 1)
        let fuid = files.fuid(handle: [1])
        #expect(files.attach(fuid, source: "HTTP", depth: 0, isOrig: false, filename: nil, connection: conn, now: .zero))
        #expect(!files.attach(fuid, source: "HTTP", depth: 0, isOrig: false, filename: nil, connection: conn, now: .zero))
        let piece = [UInt8](repeating: 0x41, count: 10)
        piece.withUnsafeBytes {
            _ = files.data(fuid, $0, offset: 100, now: .zero)
            _ = files.data(fuid, $0, offset: 0, now: .zero)
            _ = files.data(fuid, $0, offset: 0, now: .zero)
        }
        let f = try #require(files.files[fuid])
        #expect(f.seenBytes == 20)
        #expect(f.overflowBytes == 10)
        #expect(f.holes == 90)
    }

    @Test func aShortFileIsSniffedWhenItEnds() throws {
        let files = FilesLog(seed: 1)
        let fuid = files.fuid(handle: [2])
        files.attach(fuid, source: "HTTP", depth: 0, isOrig: true, filename: Array("a.txt".utf8), connection: conn, now: .zero)
        let text = Array("plain text, longer than ten bytes".utf8)
        let during = text.withUnsafeBytes { files.data(fuid, $0, offset: 0, now: .zero) }
        #expect(during == nil)
        let sniffed = try #require(files.sniffIfNeeded(fuid))
        #expect(sniffed?.description == "text/plain")
        files.end(fuid)
        #expect(!files.isOpen(fuid))
        #expect(files.finished.count == 1)
    }
}
