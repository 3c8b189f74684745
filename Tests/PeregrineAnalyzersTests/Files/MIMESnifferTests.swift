// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import PeregrineAnalyzers

@Suite struct MIMESnifferTests {
    func sniff(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { MIMESniffer.sniff($0).map { $0.description } }
    }

    @Test(arguments: [
        ("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0\">", "text/html"),
        ("  <!-- c --> <html><head>", "text/html"),
        ("<?xml version=\"1.0\"?>\n<rss version=\"2.0\">", "text/rss"),
        ("<?xml version=\"1.0\"?><root/>", "application/xml"),
        ("body { color: red; }\n", "text/plain"),
        ("{\"a\": 1}", "text/json"),
        ("#!/usr/bin/env python\nprint(1)", "text/x-python"),
        ("GIF89a\u{1}\u{0}", "image/gif"),
        ("CWS\u{9}abcd", "application/x-shockwave-flash"),
        ("%PDF-1.4\n", "application/pdf"),
    ])
    func textSignatures(_ text: String, _ mime: String) {
        #expect(sniff(Array(text.utf8)) == mime)
    }

    @Test func binarySignaturesAndUnknownData() {
        #expect(sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]) == "image/png")
        #expect(sniff([0xFF, 0xD8, 0xFF, 0xE0]) == "image/jpeg")
        #expect(sniff([0x1F, 0x8B, 0x08]) == "application/x-gzip")
        #expect(sniff([0x4D, 0x5A, 0x90, 0x00]) == "application/x-dosexec")
        #expect(sniff([0x00, 0x01, 0x02, 0x03, 0xFE]) == nil)
        #expect(sniff(Array("short".utf8)) == nil)
    }
}
