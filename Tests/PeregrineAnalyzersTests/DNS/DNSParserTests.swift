// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineSessions
import Testing

@testable import PeregrineAnalyzers

@Suite struct DNSParserTests {
    func parse(_ bytes: [UInt8], isQuery: Bool = false, netBIOS: Bool = false) -> (DNSParser.Outcome, DNSMessage, [String]) {
        var m = DNSMessage()
        var w = WeirdQueue()
        let outcome = bytes.withUnsafeBytes {
            DNSParser.parse($0, isQuery: isQuery, netBIOS: netBIOS, into: &m, weirds: &w)
        }
        return (outcome, m, (0..<w.count).map { w[$0].name.description })
    }

    func text(_ m: DNSMessage, _ t: DNSText) -> String { String(decoding: m.bytes(t), as: UTF8.self) }

    // The reply of wikipedia.pcap (Zeek's conn-wikipedia case) to `A? upload.wikimedia.org`,
    // trimmed to its first two answers.
    static let reply: [UInt8] = [
        0x66, 0x00,  // id 26112
        0x81, 0x80,  // QR, RD, RA; rcode 0
        0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,  // 1 question, 2 answers
        6, 0x75, 0x70, 0x6c, 0x6f, 0x61, 0x64,  // "upload"
        9, 0x77, 0x69, 0x6b, 0x69, 0x6d, 0x65, 0x64, 0x69, 0x61,  // "wikimedia"
        3, 0x6f, 0x72, 0x67, 0,  // "org", root
        0x00, 0x01, 0x00, 0x01,  // A, IN
        0xC0, 0x0C,  // name: pointer to offset 12 (the question's name)
        0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x7C, 0x00, 0x08,  // CNAME IN ttl 124 rdlength 8
        5, 0x50, 0x4D, 0x54, 0x50, 0x41,  // "PMTPA" (upper case: names are lower-cased)
        0xC0, 0x13,  // pointer to "wikimedia.org" at offset 19
        0xC0, 0x32,  // name: pointer to the CNAME's target at offset 50
        0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x08, 0x6C, 0x00, 0x04,  // A IN ttl 2156 rdlength 4
        208, 80, 152, 3,
    ]

    @Test func decodesHeaderQuestionAndCompressedAnswers() {
        let (outcome, m, weirds) = parse(Self.reply)
        #expect(outcome == .confirmed)
        #expect(weirds.isEmpty)
        #expect(m.header.id == 26112 && m.header.isResponse && m.header.recursionDesired && m.header.recursionAvailable)
        #expect(m.header.rcode == 0 && m.header.opcode == 0 && m.header.z == 0)
        #expect(m.questions.count == 1)
        #expect(text(m, m.questions[0].name) == "upload.wikimedia.org")
        #expect(m.questions[0].qtype == 1 && m.questions[0].qclass == 1)
        #expect(m.answers.count == 2)
        #expect(m.answers[0].type == 5 && m.answers[0].ttl == 124)
        guard case .text(let cname) = m.answers[0].summary, case .text(let a) = m.answers[1].summary else {
            Issue.record("answers have no summaries")
            return
        }
        #expect(text(m, cname) == "pmtpa.wikimedia.org")
        #expect(text(m, m.answers[1].name) == "pmtpa.wikimedia.org")
        #expect(text(m, a) == "208.80.152.3")
        #expect(m.answers[1].ttl == 2156)
    }

    @Test func everyTruncationEndsWithoutACrash() {
        // Every prefix of the message: never a crash, and a weird whenever it is cut short.
        for n in 0..<Self.reply.count {
            let (outcome, _, weirds) = parse(Array(Self.reply.prefix(n)))
            #expect(outcome != .confirmed || n == Self.reply.count)
            if n < 12 { #expect(outcome == .tooShort && weirds == ["DNS_truncated_len_lt_hdr_len"]) }
        }
    }

    @Test func aPointerLoopIsAForwardPointerWeird() {
        let bytes: [UInt8] = [
            0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // query, 1 question
            0xC0, 0x0C,  // name: a pointer to itself
            0x00, 0x01, 0x00, 0x01,
        ]
        let (outcome, m, weirds) = parse(bytes, isQuery: true)
        #expect(weirds == ["DNS_label_forward_compress_offset"])
        #expect(outcome == .confirmed)
        #expect(m.questions.count == 1 && m.questions[0].name.count == 0)
    }

    @Test func aTwoPointerCycleCannotLoop() {
        // Offset 12 holds a label then a pointer to 20; offset 20 points back to 12. The second
        // hop is not before the first pointer's target region, so it stops with a weird.
        let bytes: [UInt8] = [
            0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            1, 0x61, 0xC0, 0x12,  // "a", pointer to 18
            0x00, 0x01,  // (qtype, qclass of question 1 would follow the pointer)
            0xC0, 0x0C,  // offset 18: pointer to 12
        ]
        let (_, m, weirds) = parse(bytes, isQuery: true)
        #expect(weirds.contains("DNS_label_forward_compress_offset"))
        #expect(m.questions.count <= 1)
    }

    @Test func hugeLengthsGiveZeeksWeirds() {
        // A label longer than the message, and an rdlength past the end.
        let label: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 100, 0x61, 0x62]
        #expect(parse(label, isQuery: true).2.contains("DNS_label_len_gt_pkt"))
        var rr = Self.reply
        rr[48] = 0xFF  // first answer's rdlength high byte (offset 48)
        let (outcome, _, weirds) = parse(rr)
        #expect(outcome == .incomplete && weirds == ["DNS_truncated_RR_rdlength_lt_len"])
        var many = Self.reply
        many[5] = 26  // 26 questions: more than dns_max_queries
        #expect(parse(many).0 == .violation(Weird("DNS_Conn_count_too_large", source: "DNS")))
    }

    @Test func labelsOverSixtyThreeBytesOnlyForNetBIOS() {
        var bytes: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64] + Array(repeating: 0x41, count: 64)
        bytes += [0, 0, 32, 0, 1]
        #expect(parse(bytes, isQuery: true).2 == ["DNS_label_too_long"])
        let (outcome, m, weirds) = parse(bytes, isQuery: true, netBIOS: true)
        #expect(outcome == .confirmed && weirds.isEmpty && m.questions[0].name.count == 64)
    }

    @Test func rendersRecordSummariesAsZeeksPolicyDoes() {
        // TXT with two strings, then an unknown type 99x.
        let bytes: [UInt8] = [
            0, 7, 0x84, 0x00, 0, 0, 0, 2, 0, 0, 0, 0,  // response, AA, 0 questions, 2 answers
            0,  // root owner
            0, 16, 0, 1, 0, 0, 0, 60, 0, 8,  // TXT IN ttl 60 rdlength 8
            2, 0x68, 0x69, 4, 0x61, 0x20, 0x62, 0x63,  // "hi", "a bc"
            0,
            0x03, 0xE7, 0, 1, 0, 0, 0, 1, 0, 0,  // type 999, rdlength 0
        ]
        let (outcome, m, weirds) = parse(bytes)
        #expect(outcome == .confirmed)
        #expect(weirds == ["DNS_RR_unknown_type"])
        guard case .text(let txt) = m.answers[0].summary, case .text(let unknown) = m.answers[1].summary else {
            Issue.record("no summaries")
            return
        }
        #expect(text(m, txt) == "TXT 2 hi TXT 4 a bc")
        #expect(text(m, unknown) == "<unknown type=999>")
    }
}
