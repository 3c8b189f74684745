// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import PeregrineAnalyzers

@Suite struct X509CertificateTests {
    /// A self-signed certificate made for this test with
    /// `openssl req -x509 -newkey rsa:1024 -days 30 -subj "/C=US/ST=CA/O=Zeek, Inc/CN=*.zeek.test"
    /// -addext "subjectAltName=DNS:zeek.test,DNS:*.zeek.test,IP:192.0.2.1,email:a@zeek.test"
    /// -addext "basicConstraints=critical,CA:TRUE,pathlen:1" -set_serial 0x99FAA8`; the expected
    /// values are what `openssl x509 -nameopt RFC2253 -serial -dates` printed for it.
    static let der = [UInt8](Data(base64Encoded: "MIICjzCCAfigAwIBAgIEAJn6qDANBgkqhkiG9w0BAQsFADBEMQswCQYDVQQGEwJVUzELMAkGA1UECAwCQ0ExEjAQBgNVBAoMCVplZWssIEluYzEUMBIGA1UEAwwLKi56ZWVrLnRlc3QwHhcNMjYxMTIxMjEzMzA4WhcNMjYxMjIxMjEzMzA4WjBEMQswCQYDVQQGEwJVUzELMAkGA1UECAwCQ0ExEjAQBgNVBAoMCVplZWssIEluYzEUMBIGA1UEAwwLKi56ZWVrLnRlc3QwgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGBAKzsUPUmklAegb8C3CYWrxeFGrJ52U1FtMBScm+a+o5OYqJ3MLbc8HoAqRXKClicgNjUtO2l8wDU7Iw5DSnW0Cc7qLHoqxE2iY5lv3tEYEqntEEsTTvy3i2eGk6Am6zREVDHKFKMVY2PXeiAg6H7KXXgc9JwECXLXi8HWXfbBavlAgMBAAGjgY0wgYowHQYDVR0OBBYEFFP8jZFwwNdF94gn2/UBNMsWXt2aMB8GA1UdIwQYMBaAFFP8jZFwwNdF94gn2/UBNMsWXt2aMDQGA1UdEQQtMCuCCXplZWsudGVzdIILKi56ZWVrLnRlc3SHBMAAAgGBC2FAemVlay50ZXN0MBIGA1UdEwEB/wQIMAYBAf8CAQEwDQYJKoZIhvcNAQELBQADgYEAhVlQxCezGHbrvdlZeqGyv55fwSwtBEQ85JkhO/sp8Ir5zRLO5fLysn1I5YOVclIUzHlZtYDBs+yso/iJVMyhasiwBNFq5ZMeowDAi4oRwkmHw2FKBjA4uqRDXYbEOv8V5mlvRcMGk+vIzfcktbea9nN1v6k7iOkDmShKp9G+X/Q=") ?? Data())

    @Test func fieldsRenderAsOpenSSLDoes() throws {
        let cert = try #require(X509Certificate.parse(der: Self.der))
        #expect(cert.version == 3)
        #expect(cert.serial == "99FAA8")  // DER content 00 99 FA A8: the sign byte is dropped
        #expect(cert.subject == #"CN=*.zeek.test,O=Zeek\, Inc,ST=CA,C=US"#)
        #expect(cert.issuer == cert.subject)
        #expect(cert.notValidBefore == 1_795_296_788)
        #expect(cert.notValidAfter == 1_795_296_788 + 30 * 86_400)
        #expect(cert.keyAlgorithm == "rsaEncryption")
        #expect(cert.signatureAlgorithm == "sha256WithRSAEncryption")
        #expect(cert.keyType == "rsa")
        #expect(cert.keyLength == 1024)
        #expect(cert.exponent == "65537")
        #expect(cert.curve == nil)
        #expect(cert.san?.dns == ["zeek.test", "*.zeek.test"])
        #expect(cert.san?.email == ["a@zeek.test"])
        #expect(cert.san?.ip == [[192, 0, 2, 1]])
        #expect(cert.san?.uri == [])
        #expect(cert.basicConstraints == .init(ca: true, pathLength: 1))
    }

    @Test func garbageIsRejected() {
        #expect(X509Certificate.parse(der: [0x30, 0x03, 0x02, 0x01]) == nil)
        #expect(X509Certificate.parse(der: Array(Self.der.prefix(100))) == nil)
    }

    @Test func integerHelpers() {
        #expect(X509Certificate.decimal([0x01, 0x00, 0x01]) == "65537")
        #expect(X509Certificate.decimal([0x00]) == "0")
        #expect(X509Certificate.bitLength(X509Certificate.magnitude([0x00, 0x80, 0x00])) == 16)
        #expect(X509Certificate.hex(X509Certificate.magnitude([0x00, 0x00, 0x01])) == "01")
    }
}
