// SPDX-License-Identifier: Apache-2.0
import PeregrineLogs
import Testing

/// Every escaping rule of zeek-logs.md §1 (TSV) and §22 (JSON), byte for byte.
@Suite struct ZeekEscapingTests {
    private func tsvString(_ bytes: [UInt8]) -> String {
        tsv(singleColumn(.string)) { encoder in bytes.withUnsafeBytes { encoder.string($0) } }
    }

    private func jsonString(_ bytes: [UInt8]) -> String {
        json(singleColumn(.string, name: "s")) { encoder in bytes.withUnsafeBytes { encoder.string($0) } }
    }

    @Test(arguments: [
        ([UInt8](), "(empty)"),
        (Array("-".utf8), "\\x2d"),
        (Array("(empty)".utf8), "\\x28empty)"),
        (Array("--".utf8), "--"),
        (Array("(empty".utf8), "(empty"),
        (Array("a b".utf8), "a b"),
        (Array("a\tb".utf8), "a\\x09b"),
        ([0x07], "\\x07"),
        ([0x00], "\\x00"),
        ([0x0A, 0x0D], "\\x0a\\x0d"),
        ([0x7F], "\\x7f"),
        ([0xFF], "\\xff"),
        (Array("/printable_😄".utf8), "/printable_😄"),
        (Array("é".utf8), "é"),
        ([0xE2, 0x82], "\\xe2\\x82"),  // truncated 3-byte sequence
        ([0xC0, 0xAF], "\\xc0\\xaf"),  // overlong
        ([0xED, 0xA0, 0x80], "\\xed\\xa0\\x80"),  // UTF-16 surrogate
        ([0xF4, 0x90, 0x80, 0x80], "\\xf4\\x90\\x80\\x80"),  // above U+10FFFF
        ([0x80, 0x41], "\\x80A"),  // stray continuation byte
        (Array("/non_printable_\u{07}".utf8), "/non_printable_\\x07"),
        (Array("/non_printable_literal_\\x07".utf8), "/non_printable_literal_\\\\x07"),
        (Array("a\\b".utf8), "a\\\\b"),
        (Array("a,b".utf8), "a,b"),  // a comma outside containers stays
    ])
    func tsvEscaping(input: [UInt8], expected: String) {
        #expect(tsvString(input) == expected)
    }

    @Test(arguments: [
        ([UInt8](), "\"\""),
        (Array("-".utf8), "\"-\""),
        (Array("/non_printable_\u{07}".utf8), "\"/non_printable_\\\\x07\""),
        (Array("/non_printable_literal_\\x07".utf8), "\"/non_printable_literal_\\\\x07\""),
        (Array("say \"hi\"".utf8), "\"say \\\"hi\\\"\""),
        (Array("a\tb\nc\r".utf8), "\"a\\tb\\nc\\r\""),
        ([0x08, 0x0C], "\"\\b\\f\""),
        ([0x00, 0x1F, 0x7F], "\"\\\\x00\\\\x1f\\\\x7f\""),
        ([0xFF], "\"\\\\xff\""),
        (Array("/printable_😄".utf8), "\"/printable_😄\""),
        (Array("a,b/c".utf8), "\"a,b/c\""),
    ])
    func jsonEscaping(input: [UInt8], expected: String) {
        #expect(jsonString(input) == "{\"s\":\(expected)}")
    }

    @Test func stringOverloadsAgree() {
        let schema = singleColumn(.string)
        #expect(tsv(schema) { $0.string("a\tb") } == "a\\x09b")
        #expect(tsv(schema) { $0.string("a\tb" as StaticString) } == "a\\x09b")
    }
}
