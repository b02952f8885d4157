import Foundation

/// A UDP relay that delays every datagram by a fixed time each way (this kernel has no netem).
/// It listens on `listenPort` on every address; a request to 127.a.b.c:listenPort goes on to
/// 127.a.b.c:agentPort after the delay, and the answer goes back to the client after the delay
/// again, sent from 127.a.b.c:listenPort (IP_PKTINFO) as if the element had answered.
/// With `record`, every request is written there as it arrives: "epoch_ms source_port element".
enum Relay {
    struct Datagram {
        var due: UInt64
        var bytes: [UInt8]
        var address: UInt32 // the element's address (host order)
        var client: sockaddr_in
    }

    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    static func udpSocket(port: UInt16, address: UInt32) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var size: Int32 = 32 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_IP), IP_PKTINFO, &on, socklen_t(MemoryLayout<Int32>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = port.bigEndian
        local.sin_addr.s_addr = address.bigEndian
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(bound == 0, "relay cannot bind port \(port): \(String(cString: strerror(errno)))")
        return fd
    }

    /// Runs until killed.
    static func run(listenPort: UInt16, agentPort: UInt16, delayMilliseconds: Int, record: String? = nil) -> Never {
        let delay = UInt64(delayMilliseconds) * 1_000_000
        let log = record.map { path -> UnsafeMutablePointer<FILE> in
            guard let file = fopen(path, "w") else { fatalError("relay cannot write \(path): \(String(cString: strerror(errno)))") }
            return file
        }
        let front = udpSocket(port: listenPort, address: 0)
        let back = udpSocket(port: 0, address: 0x7f00_0001)
        var toAgent: [Datagram] = []
        var toAgentHead = 0
        var toClient: [Datagram] = []
        var toClientHead = 0
        var clients: [UInt32: sockaddr_in] = [:]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var control = [UInt8](repeating: 0, count: 64)

        func receive(_ fd: Int32) -> (bytes: [UInt8], from: sockaddr_in, to: UInt32)? {
            var from = sockaddr_in()
            let count: Int = buffer.withUnsafeMutableBytes { data in
                control.withUnsafeMutableBytes { controlBytes in
                    withUnsafeMutablePointer(to: &from) { fromPointer in
                        var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                        return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                            var message = msghdr()
                            message.msg_name = UnsafeMutableRawPointer(fromPointer)
                            message.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                            message.msg_iov = vectorPointer
                            message.msg_iovlen = 1
                            message.msg_control = controlBytes.baseAddress
                            message.msg_controllen = controlBytes.count
                            return recvmsg(fd, &message, Int32(MSG_DONTWAIT))
                        }
                    }
                }
            }
            guard count >= 0 else { return nil }
            // The one control message is IP_PKTINFO: cmsghdr (16 bytes) then in_pktinfo, whose
            // ipi_addr (offset 8) is the destination the client sent to.
            let to = control.withUnsafeBytes { raw -> UInt32 in
                UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: MemoryLayout<cmsghdr>.size + 8, as: UInt32.self))
            }
            return (Array(buffer[0..<count]), from, to)
        }

        func send(_ fd: Int32, _ bytes: [UInt8], to destination: sockaddr_in, from source: UInt32?) {
            var destination = destination
            var controlBuffer = [UInt8](repeating: 0, count: MemoryLayout<cmsghdr>.size + 16)
            if let source {
                controlBuffer.withUnsafeMutableBytes { raw in
                    var header = cmsghdr()
                    header.cmsg_len = MemoryLayout<cmsghdr>.size + 12
                    header.cmsg_level = Int32(IPPROTO_IP)
                    header.cmsg_type = Int32(IP_PKTINFO)
                    raw.storeBytes(of: header, as: cmsghdr.self)
                    // in_pktinfo: ifindex 0, ipi_spec_dst = source (the reply's source address).
                    raw.storeBytes(of: source.bigEndian, toByteOffset: MemoryLayout<cmsghdr>.size + 4, as: UInt32.self)
                }
            }
            _ = bytes.withUnsafeBytes { data in
                controlBuffer.withUnsafeMutableBytes { controlBytes in
                    withUnsafeMutablePointer(to: &destination) { destinationPointer in
                        var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: data.baseAddress), iov_len: data.count)
                        return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                            var message = msghdr()
                            message.msg_name = UnsafeMutableRawPointer(destinationPointer)
                            message.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
                            message.msg_iov = vectorPointer
                            message.msg_iovlen = 1
                            if source != nil {
                                message.msg_control = controlBytes.baseAddress
                                message.msg_controllen = MemoryLayout<cmsghdr>.size + 16
                            }
                            return sendmsg(fd, &message, 0)
                        }
                    }
                }
            }
        }

        while true {
            let next = min(toAgentHead < toAgent.count ? toAgent[toAgentHead].due : UInt64.max,
                           toClientHead < toClient.count ? toClient[toClientHead].due : UInt64.max)
            let current = now()
            let timeout = next == UInt64.max ? 1000 : next <= current ? 0 : Int32((next - current) / 1_000_000 + 1)
            var descriptors = [pollfd(fd: front, events: Int16(POLLIN), revents: 0), pollfd(fd: back, events: Int16(POLLIN), revents: 0)]
            _ = poll(&descriptors, 2, timeout)
            let arrival = now()
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            let arrivalMilliseconds = Int(spec.tv_sec) * 1000 + Int(spec.tv_nsec) / 1_000_000
            while let datagram = receive(front) {
                clients[datagram.to] = datagram.from
                toAgent.append(Datagram(due: arrival + delay, bytes: datagram.bytes, address: datagram.to, client: datagram.from))
                if let log {
                    let to = datagram.to
                    fputs("\(arrivalMilliseconds) \(UInt16(bigEndian: datagram.from.sin_port)) "
                          + "\(to >> 24).\(to >> 16 & 255).\(to >> 8 & 255).\(to & 255)\n", log)
                }
            }
            if let log { fflush(log) }
            while let datagram = receive(back) {
                let element = UInt32(bigEndian: datagram.from.sin_addr.s_addr)
                guard let client = clients[element] else { continue }
                toClient.append(Datagram(due: arrival + delay, bytes: datagram.bytes, address: element, client: client))
            }
            let sendTime = now()
            while toAgentHead < toAgent.count && toAgent[toAgentHead].due <= sendTime {
                let datagram = toAgent[toAgentHead]
                toAgentHead += 1
                var agent = sockaddr_in()
                agent.sin_family = sa_family_t(AF_INET)
                agent.sin_port = agentPort.bigEndian
                agent.sin_addr.s_addr = datagram.address.bigEndian
                send(back, datagram.bytes, to: agent, from: nil)
            }
            while toClientHead < toClient.count && toClient[toClientHead].due <= sendTime {
                let datagram = toClient[toClientHead]
                toClientHead += 1
                send(front, datagram.bytes, to: datagram.client, from: datagram.address)
            }
            if toAgentHead > 4096 && toAgentHead * 2 > toAgent.count { toAgent.removeFirst(toAgentHead); toAgentHead = 0 }
            if toClientHead > 4096 && toClientHead * 2 > toClient.count { toClient.removeFirst(toClientHead); toClientHead = 0 }
        }
    }
}
