// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import PeregrineAnalyzers

@Suite struct ContentProbeTests {
    func signature(_ name: String) throws -> ContentProbe.Signature {
        try #require(ContentProbe.signatures.first { $0.name.description == name })
    }

    func match(_ name: String, _ text: String) throws -> ContentProbe.Match {
        let s = try signature(name)
        return Array(text.utf8).withUnsafeBytes { ContentProbe.match(s, $0) }
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\n", ContentProbe.Match.match),
        ("  \r\n\tPOST /form", .match),
        ("HEAD", .match),
        ("HEADER", .match),  // the regex has no word boundary either
        ("GE", .needMore),
        ("   ", .needMore),
        ("", .needMore),
        ("PUT / HTTP/1.1", .noMatch),
        ("get / HTTP/1.1", .noMatch),  // Zeek's pattern is case-sensitive
        ("\u{16}\u{03}\u{01}", .noMatch),
    ])
    func httpClientSignature(_ text: String, _ expected: ContentProbe.Match) throws {
        #expect(try match("dpd_http_client", text) == expected)
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK", ContentProbe.Match.match),
        ("HTTP/0", .match),
        ("HTTP/", .needMore),
        ("HTTP/x", .noMatch),
        (" HTTP/1.1", .noMatch),  // anchored, no filler
        ("SSH-2.0-OpenSSH", .noMatch),
    ])
    func httpServerSignature(_ text: String, _ expected: ContentProbe.Match) throws {
        #expect(try match("dpd_http_server", text) == expected)
    }

    @Test func theServerSignatureNeedsTheClientOneAndEnablesHTTP() throws {
        let server = try signature("dpd_http_server")
        let client = try signature("dpd_http_client")
        #expect(server.enables == .http && !server.originator)
        #expect(client.enables == nil && client.originator)
        let reverse = try #require(server.requiresReverse)
        #expect(ContentProbe.signatures[reverse].name.description == "dpd_http_client")
    }
}
