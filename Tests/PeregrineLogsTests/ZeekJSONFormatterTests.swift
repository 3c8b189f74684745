// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineLogs
import Testing

@Suite struct ZeekJSONFormatterTests {
    @Test(arguments: [
        (1300475167.096535, "1300475167.096535"),
        (-315619200.0, "-315619200.0"),
        (100.0, "100.0"),
        (3.14, "3.14"),
        (0.0, "0.0"),
        (0.000001, "0.000001"),
        (0.0000001, "1e-7"),
        (1.5e30, "1.5e30"),
        (1e20, "100000000000000000000.0"),
        (1e21, "1e21"),
        (1e22, "1e22"),
        (123456.789e-12, "1.23456789e-7"),
        (Double.infinity, "null"),
        (Double.nan, "null"),
    ])
    func doubleIsShortestRoundTrip(value: Double, expected: String) {
        #expect(json(singleColumn(.double, name: "d")) { $0.double(value) } == "{\"d\":\(expected)}")
    }

    @Test(arguments: [
        (JSONTimestampFormat.epoch, "1300475167.096535"),
        (.iso8601, "\"2011-03-18T19:06:07.096535Z\""),
        (.millis, "1300475167096"),
        (.millisUnsigned, "1300475167096"),
    ])
    func timeFormats(format: JSONTimestampFormat, expected: String) {
        let line = json(singleColumn(.time, name: "ts"), timestamps: format) {
            $0.time(Timestamp(nanoseconds: 1_300_475_167_096_535_000))
        }
        #expect(line == "{\"ts\":\(expected)}")
    }

    @Test func iso8601BeforeTheEpoch() {
        let line = json(singleColumn(.time, name: "ts"), timestamps: .iso8601) {
            $0.time(Timestamp(nanoseconds: -315_619_200_000_000_000))
        }
        #expect(line == "{\"ts\":\"1960-01-01T00:00:00.000000Z\"}")
    }

    @Test func intervalIsANumber() {
        #expect(json(singleColumn(.interval, name: "i")) { $0.interval(.seconds(100)) } == "{\"i\":100.0}")
        #expect(json(singleColumn(.interval, name: "i")) { $0.interval(.milliseconds(1)) } == "{\"i\":0.001}")
    }

    @Test func scalarTypes() {
        let schema = LogSchema(id: 0, path: "t", columns: [
            LogColumn("uid", .string), LogColumn("id.orig_h", .addr), LogColumn("id.orig_p", .port),
            LogColumn("n", .count), LogColumn("i", .int), LogColumn("b", .bool), LogColumn("net", .subnet),
            LogColumn("proto", .enum),
        ])
        let line = json(schema) {
            $0.uid(ConnectionUID(word0: 61, word1: 62), prefix: "C")
            $0.addr(IPAddress(ipv4: 0xAC18_0002))
            $0.port(55122)
            $0.count(335)
            $0.int(-3)
            $0.bool(false)
            $0.subnet(IPSubnet(network: IPAddress(ipv4: 0x0A00_0000), length: 8))
            $0.enumValue("tcp")
        }
        #expect(line == #"{"uid":"CZ01","id.orig_h":"172.24.0.2","id.orig_p":55122,"n":335,"i":-3,"b":false,"net":"10.0.0.0/8","proto":"tcp"}"#)
    }

    @Test func unsetFieldsAreOmittedOrNull() {
        let schema = LogSchema(id: 0, path: "t", columns: [
            LogColumn("a", .string), LogColumn("b", .count), LogColumn("c", .bool),
        ])
        let body: (inout LogRecordEncoder) -> Void = {
            $0.unset()
            $0.count(1)
            $0.unset()
        }
        #expect(json(schema, body) == #"{"b":1}"#)
        #expect(json(schema, includeUnset: true, body) == #"{"a":null,"b":1,"c":null}"#)
    }

    @Test func containersAreArrays() {
        let schema = LogSchema(id: 0, path: "t", columns: [
            LogColumn("tags", .set(.enum)), LogColumn("resp_fuids", .vector(.string)),
            LogColumn("TTLs", .vector(.interval)),
        ])
        let line = json(schema) {
            $0.beginSet(count: 0)
            $0.beginVector(count: 2)
            $0.string("FiQHEW1Z5mVQT0VMtd")
            $0.unset()
            $0.beginVector(count: 1)
            $0.interval(.seconds(30))
        }
        #expect(line == #"{"tags":[],"resp_fuids":["FiQHEW1Z5mVQT0VMtd",null],"TTLs":[30.0]}"#)
    }

    /// The third line of the corpus' JSON http.log, `ts` set to a value and compared whole.
    @Test func matchesCorpusHTTPLine() {
        let schema = LogSchema(id: 3, path: "http", columns: [
            LogColumn("ts", .time), LogColumn("uid", .string), LogColumn("id.orig_h", .addr),
            LogColumn("id.orig_p", .port), LogColumn("id.resp_h", .addr), LogColumn("id.resp_p", .port),
            LogColumn("trans_depth", .count), LogColumn("method", .string), LogColumn("host", .string),
            LogColumn("uri", .string), LogColumn("referrer", .string), LogColumn("version", .string),
            LogColumn("user_agent", .string), LogColumn("origin", .string), LogColumn("request_body_len", .count),
            LogColumn("response_body_len", .count), LogColumn("status_code", .count), LogColumn("status_msg", .string),
            LogColumn("tags", .set(.enum)), LogColumn("resp_fuids", .vector(.string)),
            LogColumn("resp_mime_types", .vector(.string)),
        ])
        let line = json(schema) {
            $0.time(Timestamp(nanoseconds: 1_700_000_000_123_456_000))
            $0.string("C4J4Th3PJpwUYZZ6gc")
            $0.addr(IPAddress(ipv4: 0xAC18_0002))
            $0.port(55142)
            $0.addr(IPAddress(ipv4: 0xAC18_0003))
            $0.port(80)
            $0.count(1)
            $0.string("GET")
            $0.string("172.24.0.3")
            $0.string("/non_printable_\u{07}")
            $0.unset()
            $0.string("1.0")
            $0.string("Python-urllib/3.12")
            $0.unset()
            $0.count(0)
            $0.count(335)
            $0.count(404)
            $0.string("File not found")
            $0.beginSet(count: 0)
            $0.beginVector(count: 1)
            $0.string("FLQcdMkvd8G7536U2")
            $0.beginVector(count: 1)
            $0.string("text/html")
        }
        let expected = #"{"ts":1700000000.123456,"uid":"C4J4Th3PJpwUYZZ6gc","id.orig_h":"172.24.0.2","id.orig_p":55142,"id.resp_h":"172.24.0.3","id.resp_p":80,"trans_depth":1,"method":"GET","host":"172.24.0.3","uri":"/non_printable_\\x07","version":"1.0","user_agent":"Python-urllib/3.12","request_body_len":0,"response_body_len":335,"status_code":404,"status_msg":"File not found","tags":[],"resp_fuids":["FLQcdMkvd8G7536U2"],"resp_mime_types":["text/html"]}"#
        #expect(line == expected)
        let corpus = readFile("/work/shared/corpus/zeek/http-non-printable-json/json/http.log")
        if let corpus {
            let masked = "{\"ts\":XXXXXXXXXX.XXXXXX" + line.dropFirst("{\"ts\":1700000000.123456".count)
            #expect(corpus.split(separator: "\n").contains { $0 == masked })
        }
    }
}
