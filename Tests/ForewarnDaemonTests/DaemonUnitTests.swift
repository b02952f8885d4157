#if canImport(Glibc)
import Glibc
#endif
@testable import ForewarnDaemon
import Foundation
import Logging
import Testing

@Suite struct SystemdNotifierTests {
    @Test func watchdogIntervalIsHalfOfWatchdogUsecForThisProcessOnly() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogInterval == .seconds(15))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"])
            .watchdogInterval == .seconds(15))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "zero"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: [:]).watchdogInterval == nil)
    }

    @Test func withoutNotifySocketNothingIsSent() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isActive)
        #expect(notifier.notify("READY=1") == nil)
    }

    @Test func sendsToAnAbstractSocket() throws {
        let name = "forewarn-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(receiver) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = [UInt8(0)] + Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(receiver, $0, length) }
        }
        #expect(bound == 0)

        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name])
        #expect(notifier.notify("STATUS=hello") == nil)
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(receiver, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(count > 0 && String(decoding: buffer[0..<max(count, 0)], as: UTF8.self) == "STATUS=hello")
    }

    @Test func unreachableSocketIsReportedNotFatal() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/notify.sock"])
        #expect(notifier.notify("READY=1")?.hasPrefix("sendto /nonexistent/notify.sock:") == true)
    }
}

@Suite struct JournalLogHandlerTests {
    @Test func prioritiesFollowSyslog() {
        #expect(JournalLogHandler.syslogPriority(.error) == 3)
        #expect(JournalLogHandler.syslogPriority(.info) == 6)
        #expect(JournalLogHandler.syslogPriority(.trace) == 7)
    }

    @Test func valuesWithSpacesOrQuotesAreQuotedOnOneLine() {
        #expect(JournalLogHandler.quoted("agg1") == "agg1")
        #expect(JournalLogHandler.quoted("a b") == "\"a b\"")
        #expect(JournalLogHandler.quoted("say \"hi\"\nnext") == "\"say \\\"hi\\\"\\nnext\"")
        #expect(JournalLogHandler.quoted("") == "\"\"")
    }

    @Test func levelChangesApplyToExistingLoggers() {
        let control = LogLevelControl(.info)
        let handler = JournalLogHandler(label: "t", control: control)
        #expect(handler.logLevel == .info)
        control.current = .debug
        #expect(handler.logLevel == .debug)
    }
}
