// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCapture
import PeregrineConfig
import PeregrineCore
import PeregrineEngine
import PeregrineLogs
import PeregrineSystem
import Testing

@Suite("ConfigurationFile")
struct ConfigurationFileTests {
    @Test("the documented example file loads with the values its comments describe")
    func exampleFile() throws {
        let path = packageRoot.appendingPathComponent("systemd/peregrine.yaml").path
        var flags = CommandLineOverrides()
        flags.logDirectory = try temporaryDirectory()  // /var/log/peregrine may not be writable here
        let s = try ConfigurationFile.load(path: path, overrides: flags, system: eightCPUs).get()
        #expect(s.interfaces == [CaptureInterface(name: "eth1"), CaptureInterface(name: "eth2", fanoutID: 42)])
        #expect(s.captureMode == .afPacket)
        #expect(!s.engine.ebpfFanout && s.engine.bpfDirectory == "/usr/local/lib/peregrine/bpf")
        #expect(s.engine.workers == 4)
        #expect(s.engine.cpuList == "2-5")
        #expect(s.cpus?.text == "2-5")
        #expect(s.cpus?.set.cpus == [2, 3, 4, 5])
        #expect(s.engine.captureFilter == "not host 192.0.2.1")
        #expect(!s.engine.ignoreChecksums)
        #expect(s.ring.blockSize == 1 << 20)
        #expect(s.ring.blockCount == 128)
        #expect(s.ring.frameSize == 2048)
        #expect(s.ring.blockTimeoutMilliseconds == 10)
        #expect(s.umem.frameSize == 2048 && s.umem.frameCount == 65536)
        #expect(s.umem.fillRingSize == 65536 && s.umem.completionRingSize == 2048 && s.umem.rxRingSize == 32768)
        #expect(s.engine.localNetworks.map(\.description) == ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"])
        #expect(s.engine.privateAddressSpaceIsLocal)
        #expect(s.engine.maxConnections == 262_144)
        #expect(s.engine.logDirectory == flags.logDirectory)
        #expect(!s.engine.useJSON)
        #expect(s.engine.rotationInterval == .seconds(3600))
        #expect(s.engine.logCompression == .gzip)
        #expect(s.engine.logRetentionAge == .seconds(30 * 86400))
        #expect(s.engine.logRetentionBytes == 500 << 30)
        #expect(s.logFiles.disabledLogs == ["ntp"])
        #expect(s.logFiles.isEnabled("conn") && !s.logFiles.isEnabled("ntp"))
        #expect(s.engine.statsLogging && s.engine.statsInterval == .seconds(300))
        #expect(s.engine.captureLossLogging && s.engine.captureLossInterval == .seconds(900))
        #expect(s.engine.captureLossInitialInterval == .seconds(60))
        #expect(s.metricsAddress == ListenAddress("127.0.0.1:9911"))
    }

    @Test("an empty file gives the defaults")
    func emptyFile() throws {
        let s = try parse("# nothing but a comment\n").get()
        #expect(s.interfaces.isEmpty)
        #expect(s.captureMode == .afPacket)
        #expect(s.engine.workers == 1)
        #expect(s.cpus == nil)
        #expect(s.ring == AFPacketConfiguration())
        #expect(s.logFiles == LogFileSettings())
        // The engine's default compression without rotation is no problem; only a compression the
        // file says is (SettingsCheckTests).
        #expect(s.engine.logCompression == .gzip && s.engine.rotationInterval == nil)
        #expect(s.metricsAddress == nil)
    }

    @Test("every problem of a file is reported, sorted by line, each with file, line and reason")
    func everyProblem() {
        let yaml = """
            capture:
              interfaces: [eth1, eth1]
              mode: af_pakcet
              workers: four
              af_packet:
                block_size: 1000
            network:
              local_nets: [10.0.0.0/8, 10.0.0.300/8]
            logs:
              format: xml
              rotation_interval: 5 fortnights
              compression: lz4
              disabled: [conn, dnss]
            stats:
              enabled: maybe
            metrics:
              listen: localhost
            colour: blue
            """
        let logs =
            "conn, weird, tunnel, dns, ntp, http, files, ssl, x509, ssh, ftp, smtp, analyzer, stats, capture_loss, dhcp, reporter"
        #expect(
            problems(parse(yaml)) == [
                "test.yaml:2: capture.interfaces: interface 'eth1' is listed twice",
                "test.yaml:3: capture.mode: expected one of af_packet, af_xdp, auto, got 'af_pakcet'; "
                    + "did you mean 'af_packet'?",
                "test.yaml:4: capture.workers: expected a whole number, got 'four'",
                "test.yaml:5: capture.af_packet: block size 1000 is not a positive multiple of the page size 4096",
                "test.yaml:8: network.local_nets[1]: '10.0.0.300/8' is not a subnet "
                    + "(address/length, e.g. 10.0.0.0/8)",
                "test.yaml:10: logs.format: expected tsv or json, got 'xml'",
                "test.yaml:11: logs.rotation_interval: unknown time unit 'fortnights' "
                    + "(intervals look like 10ms, 30s, 5min, 1h, 7d)",
                "test.yaml:12: logs.compression: expected one of none, gzip, zstd, got 'lz4'",
                "test.yaml:13: logs.disabled[1]: unknown log 'dnss'; did you mean 'dns'? (logs: \(logs))",
                "test.yaml:15: stats.enabled: expected true or false, got 'maybe'",
                "test.yaml:17: metrics.listen: 'localhost' is not host:port (e.g. 127.0.0.1:9911 or [::1]:9911)",
                "test.yaml:18: colour: unknown key "
                    + "(known here: capture, network, engine, logs, stats, capture_loss, metrics, shunt)",
            ]
        )
    }

    @Test("an unknown key is reported with the nearest known key")
    func unknownKey() {
        #expect(
            problems(parse("capture:\n  wrokers: 2\n  interfaces: [eth1]\n")) == [
                "test.yaml:2: capture.wrokers: unknown key; did you mean 'capture.workers'?"
            ]
        )
        #expect(problems(parse("logz:\n  format: json\n")) == ["test.yaml:1: logz: unknown key; did you mean 'logs'?"])
    }

    @Test("a YAML syntax error is reported with its line")
    func syntaxError() {
        let found = problems(parse("capture:\n  workers: 2\n  mode: [af_packet\nlogs:\n  format: tsv\n"))
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("test.yaml:4: YAML syntax error: ") == true, "\(found)")
    }

    @Test("a key given twice is reported at its line")
    func duplicateKey() {
        #expect(
            problems(parse("stats:\n  enabled: true\n  enabled: false\n")) == [
                "test.yaml:2: duplicate key 'enabled' in one mapping"
            ]
        )
    }

    @Test("wrong types are reported, not guessed")
    func wrongTypes() {
        #expect(
            problems(parse("capture: eth1\nnetwork:\n  local_nets: {a: 1}\nengine:\n  max_connections:\n")) == [
                "test.yaml:1: capture: expected a mapping of keys, got 'eth1'",
                "test.yaml:3: network.local_nets: expected a list of subnets, got a mapping",
                "test.yaml:5: engine.max_connections: expected a whole number, got nothing",
            ]
        )
        #expect(
            problems(parse("capture:\n  fanout: xdp\n")) == [
                "test.yaml:2: capture.fanout: expected hash or ebpf, got 'xdp'"
            ]
        )
        #expect(
            problems(parse("capture:\n  interfaces:\n  workers: 1\n")) == [
                "test.yaml:2: capture.interfaces: expected a list of interfaces, got nothing"
            ]
        )
    }

    @Test("a missing file is one problem naming it")
    func missingFile() {
        let found = problems(ConfigurationFile.load(path: "/nonexistent/peregrine.yaml", system: eightCPUs))
        #expect(found.count == 1)
        #expect(
            found.first?.hasPrefix("/nonexistent/peregrine.yaml: fopen(/nonexistent/peregrine.yaml)") == true,
            "\(found)"
        )
    }

    @Test("subnets as Zeek's set literal in one string")
    func zeekSubnets() throws {
        let s = try parse("network:\n  local_nets: \"{10.0.0.0/8, 172.16.0.0/12}\"\n").get()
        #expect(s.engine.localNetworks.map(\.description) == ["10.0.0.0/8", "172.16.0.0/12"])
    }

    @Test("logs.enabled writes only the listed logs; giving both lists is a problem")
    func enabledLogs() throws {
        let s = try parse("logs:\n  directory: .\n  enabled: [conn, dns]\n").get()
        #expect(s.logFiles.isEnabled("conn") && s.logFiles.isEnabled("dns"))
        #expect(!s.logFiles.isEnabled("http") && !s.logFiles.isEnabled("weird"))
        #expect(
            problems(parse("logs:\n  directory: .\n  enabled: [conn]\n  disabled: [dns]\n")) == [
                "test.yaml:3: logs.enabled: give either logs.enabled or logs.disabled, not both"
            ]
        )
    }

    @Test("interfaces: names, fanout ids, and ids that clash")
    func interfaces() throws {
        let s = try parse("capture:\n  interfaces: eth1,eth2\n").get()
        #expect(s.interfaces.map(\.name) == ["eth1", "eth2"])
        #expect(
            problems(
                parse(
                    """
                    capture:
                      interfaces:
                        - name: eth1
                          fanout_id: 7
                        - name: eth2
                          fanout_id: 7
                        - fanout_id: 70000
                        - name: this-name-is-too-long
                    """
                )
            ) == [
                "test.yaml:2: capture.interfaces: fanout_id 7 is given to both 'eth1' and 'eth2'",
                "test.yaml:2: capture.interfaces: 'this-name-is-too-long' is not a valid interface name",
                "test.yaml:7: capture.interfaces[2].fanout_id: 70000 is out of range 0...65535",
                "test.yaml:7: capture.interfaces[2]: an interface needs a name",
            ]
        )
    }
}
