// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineLogs
import Testing

@Suite struct LogRecordEncoderTests {
    @Test func everyValueReadsBack() throws {
        let schema = LogSchema(id: 1, path: "all", columns: [
            LogColumn("t", .time), LogColumn("i", .interval), LogColumn("d", .double), LogColumn("c", .count),
            LogColumn("n", .int), LogColumn("p", .port), LogColumn("b", .bool), LogColumn("a", .addr),
            LogColumn("s", .subnet), LogColumn("str", .string), LogColumn("e", .enum), LogColumn("u", .string),
            LogColumn("x", .count), LogColumn("v", .vector(.count)),
        ])
        var encoder = LogRecordEncoder(schema: schema)
        let address = try #require(IPAddress("2001:db8::1"))
        let subnet = try #require(IPSubnet("10.1.0.0/16"))
        encoder.time(Timestamp(nanoseconds: -5))
        encoder.interval(Interval(nanoseconds: 7))
        encoder.double(-0.25)
        encoder.count(UInt64.max)
        encoder.int(Int64.min)
        encoder.port(443)
        encoder.bool(true)
        encoder.addr(address)
        encoder.subnet(subnet)
        encoder.string("héllo")
        encoder.enumValue("udp")
        encoder.uid(ConnectionUID(word0: 1, word1: 2), prefix: "F")
        encoder.unset()
        encoder.beginVector(count: 2)
        encoder.count(3)
        encoder.unset()
        encoder.finish()

        encoder.bytes.withUnsafeBytes { bytes in
            var reader = LogRecordReader(bytes)
            guard case .time(let t) = reader.next() else { Issue.record("time"); return }
            #expect(t.nanoseconds == -5)
            guard case .interval(let i) = reader.next() else { Issue.record("interval"); return }
            #expect(i.nanoseconds == 7)
            guard case .double(let d) = reader.next() else { Issue.record("double"); return }
            #expect(d == -0.25)
            guard case .count(let c) = reader.next() else { Issue.record("count"); return }
            #expect(c == UInt64.max)
            guard case .int(let n) = reader.next() else { Issue.record("int"); return }
            #expect(n == Int64.min)
            guard case .port(let p) = reader.next() else { Issue.record("port"); return }
            #expect(p == 443)
            guard case .bool(let b) = reader.next() else { Issue.record("bool"); return }
            #expect(b)
            guard case .addr(let a) = reader.next() else { Issue.record("addr"); return }
            #expect(a == address)
            guard case .subnet(let network, let length) = reader.next() else { Issue.record("subnet"); return }
            #expect(network == subnet.network && Int(length) == subnet.length128)
            guard case .string(let s) = reader.next() else { Issue.record("string"); return }
            #expect(String(decoding: s, as: UTF8.self) == "héllo")
            guard case .enumValue(let e) = reader.next() else { Issue.record("enum"); return }
            #expect(String(decoding: e, as: UTF8.self) == "udp")
            guard case .uid(let uid, let prefix) = reader.next() else { Issue.record("uid"); return }
            #expect(uid == ConnectionUID(word0: 1, word1: 2) && prefix == UInt8(ascii: "F"))
            guard case .unset = reader.next() else { Issue.record("unset"); return }
            guard case .vector(let count) = reader.next() else { Issue.record("vector"); return }
            #expect(count == 2)
            guard case .count(3) = reader.next() else { Issue.record("element"); return }
            guard case .unset = reader.next() else { Issue.record("unset element"); return }
            #expect(reader.isAtEnd)
            #expect(reader.next() == nil)
        }
    }

    #if PEREGRINE_INTERNAL_CHECKS
    @Test func debugBuildsRejectAColumnOfTheWrongType() async {
        await #expect(processExitsWith: .failure) {
            var encoder = LogRecordEncoder(schema: singleColumn(.count))
            encoder.string("not a count")
        }
    }

    @Test func debugBuildsRejectAMissingColumn() async {
        await #expect(processExitsWith: .failure) {
            let schema = LogSchema(id: 0, path: "t", columns: [LogColumn("a", .count), LogColumn("b", .count)])
            var encoder = LogRecordEncoder(schema: schema)
            encoder.count(1)
            encoder.finish()
        }
    }
    #endif

    @Test func resetStartsOver() {
        let schema = singleColumn(.count)
        var encoder = LogRecordEncoder(schema: schema, capacity: 64)
        encoder.count(1)
        let first = encoder.bytes
        encoder.reset()
        #expect(encoder.bytes.isEmpty && encoder.length == 0)
        encoder.count(1)
        #expect(encoder.bytes == first)
        #expect(encoder.bytes.count == 9)  // tag + UInt64
    }

    @Test func theBufferGrowsPastItsInitialCapacity() {
        // Strings longer than the initial room, and many of them, are kept whole.
        let schema = LogSchema(id: 0, path: "t", columns: [LogColumn("v", .vector(.string))])
        var encoder = LogRecordEncoder(schema: schema, capacity: 16)
        let words = (0..<50).map { String(repeating: Character(UnicodeScalar(97 + $0 % 26)!), count: $0 + 1) }
        encoder.beginVector(count: words.count)
        for w in words { encoder.string(w) }
        var out: [UInt8] = []
        encoder.withBytes { ZeekTSVFormatter().appendRecord($0, schema: schema, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == words.joined(separator: ",") + "\n")
    }

    @Test func recordsAreSelfContainedBytes() {
        // A record copied elsewhere (as through the log ring) formats the same.
        let schema = singleColumn(.string)
        var encoder = LogRecordEncoder(schema: schema)
        encoder.string("copied")
        let copy = Array(encoder.bytes)
        encoder.reset()
        encoder.string("overwritten")
        var out: [UInt8] = []
        copy.withUnsafeBytes { ZeekTSVFormatter().appendRecord($0, schema: schema, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == "copied\n")
    }

    @Test func schemaHeaderLinesFollowColumns() {
        let schema = LogSchema(id: 9, path: "dns", columns: [
            LogColumn("ts", .time), LogColumn("answers", .vector(.string)), LogColumn("TTLs", .vector(.interval)),
        ])
        var out: [UInt8] = []
        ZeekTSVFormatter().appendHeader(schema: schema, wallClockSeconds: 0, to: &out)
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        #expect(lines[4] == "#path\tdns")
        #expect(lines[6] == "#fields\tts\tanswers\tTTLs")
        #expect(lines[7] == "#types\ttime\tvector[string]\tvector[interval]")
    }
}
