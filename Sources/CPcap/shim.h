#ifndef FOREWARN_CPCAP_SHIM_H
#define FOREWARN_CPCAP_SHIM_H

#include <pcap/pcap.h>

#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// Helpers for the probe engines: socket options whose constants are composite macros, control
// messages (the CMSG_* macros do not import into Swift) and ioctls (variadic).

/// A non-blocking eventfd that wakes an engine thread out of poll().
static inline int fw_wake_descriptor(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

/// Asks the kernel to stamp every received datagram (SO_TIMESTAMPNS, CLOCK_REALTIME).
static inline int fw_enable_rx_timestamps(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
}

/// Raw ICMPv4 socket: let only echo replies through (linux/icmp.h ICMP_FILTER on SOL_RAW).
static inline int fw_icmp4_filter_echo_reply(int fd) {
    uint32_t blocked = ~(uint32_t)(1u << 0);  // bit N set = type N dropped; type 0 is echo reply
    return setsockopt(fd, SOL_RAW, 1 /* ICMP_FILTER */, &blocked, sizeof blocked);
}

/// Raw ICMPv6 socket: let only echo replies (type 129) through.
static inline int fw_icmp6_filter_echo_reply(int fd) {
    struct icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    return setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
}

/// Raises the receive buffer past rmem_max when privileged (SO_RCVBUFFORCE), else as far as allowed.
static inline void fw_set_receive_buffer(int fd, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }
}

static inline void fw_set_send_buffer(int fd, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    }
}

/// One recvmsg(MSG_DONTWAIT) that also returns the kernel's receive timestamp (zero when the
/// kernel attached none). Returns the byte count, or -1 with errno set.
static inline ssize_t fw_recv_stamped(int fd, void *buffer, size_t length, struct sockaddr_storage *from,
                                      socklen_t *fromLength, struct timespec *stamp) {
    union {
        char bytes[CMSG_SPACE(sizeof(struct timespec)) + 64];
        struct cmsghdr align;
    } control;
    struct iovec vector = { buffer, length };
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_name = from;
    message.msg_namelen = sizeof *from;
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control.bytes;
    ssize_t received = recvmsg(fd, &message, MSG_DONTWAIT);
    stamp->tv_sec = 0;
    stamp->tv_nsec = 0;
    if (received < 0) return received;
    *fromLength = message.msg_namelen;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_TIMESTAMPNS
            && header->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            memcpy(stamp, CMSG_DATA(header), sizeof *stamp);
        }
    }
    return received;
}

/// epoll for the TCP engine; `struct epoll_event` is packed on x86-64 and does not import cleanly,
/// so only a 64-bit token crosses into Swift.
static inline int fw_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

/// Watches `fd` for one readiness event: writable (connected or failed) or readable (the wake fd).
static inline int fw_epoll_watch(int ep, int fd, uint64_t token, int forWrite) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = (forWrite ? (EPOLLOUT | EPOLLONESHOT) : EPOLLIN) | EPOLLERR | EPOLLHUP;
    event.data.u64 = token;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event);
}

/// Waits up to `timeoutMs` and stores the tokens of ready descriptors; returns how many (or -1).
static inline int fw_epoll_wait_tokens(int ep, uint64_t *tokens, int capacity, int timeoutMs) {
    struct epoll_event events[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(ep, events, capacity, timeoutMs);
    for (int index = 0; index < count; index++) tokens[index] = events[index].data.u64;
    return count;
}

/// The pending error of a socket (SO_ERROR): 0 after a successful connect.
static inline int fw_socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
    return error;
}

/// Closes with an RST instead of a FIN (SO_LINGER 0): a probe leaves no TIME_WAIT behind, which at
/// thousands of connects a second would exhaust local ports.
static inline void fw_close_with_reset(int fd) {
    struct linger linger = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
    close(fd);
}

/// The interface's hardware (MAC) address; 0 on success, -1 with errno set.
static inline int fw_interface_mac(const char *name, uint8_t mac[6]) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int result = ioctl(fd, SIOCGIFHWADDR, &request);
    int saved = errno;
    close(fd);
    if (result != 0) { errno = saved; return -1; }
    memcpy(mac, request.ifr_hwaddr.sa_data, 6);
    return 0;
}

/// The interface's primary IPv4 address in network byte order; 0 on success, -1 with errno set
/// (EADDRNOTAVAIL when it has none).
static inline int fw_interface_ipv4(const char *name, uint32_t *address) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    request.ifr_addr.sa_family = AF_INET;
    int result = ioctl(fd, SIOCGIFADDR, &request);
    int saved = errno;
    close(fd);
    if (result != 0) { errno = saved; return -1; }
    struct sockaddr_in inet;
    memcpy(&inet, &request.ifr_addr, sizeof inet);
    *address = inet.sin_addr.s_addr;
    return 0;
}

/// setns(2) is declared only under _GNU_SOURCE, which must not leak into Swift's view of glibc.
extern int setns(int fd, int nstype);

/// Moves the calling thread into the network namespace open at `fd`; 0 or -1 with errno set.
static inline int fw_enter_network_namespace(int fd) {
    return setns(fd, 0x40000000 /* CLONE_NEWNET */);
}

/// pcap_dump takes its dumper as `u_char *user` (the pcap_handler shape): typed here.
static inline void fw_pcap_dump(pcap_dumper_t *dumper, const struct pcap_pkthdr *header, const uint8_t *bytes) {
    pcap_dump((u_char *)dumper, header, bytes);
}

#endif
