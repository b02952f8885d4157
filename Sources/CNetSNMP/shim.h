#ifndef FOREWARN_CNETSNMP_SHIM_H
#define FOREWARN_CNETSNMP_SHIM_H

// net-snmp-config.h must come first; it defines _GNU_SOURCE, which makes glibc's fd_set
// differ from the one Foundation imports, so it is undefined again before anything else.
#include <net-snmp/net-snmp-config.h>
#undef _GNU_SOURCE
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>
#include <net-snmp/library/lcd_time.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>

// Composite macros do not import into Swift: expose them as constants.
static const int fw_snmp_msg_get = SNMP_MSG_GET;
static const int fw_snmp_msg_getnext = SNMP_MSG_GETNEXT;
static const int fw_snmp_msg_getbulk = SNMP_MSG_GETBULK;
static const int fw_snmp_msg_response = SNMP_MSG_RESPONSE;
static const int fw_snmp_msg_trap = SNMP_MSG_TRAP;
static const int fw_snmp_msg_trap2 = SNMP_MSG_TRAP2;
static const int fw_snmp_msg_inform = SNMP_MSG_INFORM;
static const int fw_snmp_msg_report = SNMP_MSG_REPORT;

static const unsigned char fw_asn_integer = ASN_INTEGER;
static const unsigned char fw_asn_octet_str = ASN_OCTET_STR;
static const unsigned char fw_asn_null = ASN_NULL;
static const unsigned char fw_asn_object_id = ASN_OBJECT_ID;
static const unsigned char fw_asn_ipaddress = ASN_IPADDRESS;
static const unsigned char fw_asn_counter = ASN_COUNTER;
static const unsigned char fw_asn_gauge = ASN_GAUGE;
static const unsigned char fw_asn_timeticks = ASN_TIMETICKS;
static const unsigned char fw_asn_opaque = ASN_OPAQUE;
static const unsigned char fw_asn_counter64 = ASN_COUNTER64;
static const unsigned char fw_snmp_nosuchobject = SNMP_NOSUCHOBJECT;
static const unsigned char fw_snmp_nosuchinstance = SNMP_NOSUCHINSTANCE;
static const unsigned char fw_snmp_endofmibview = SNMP_ENDOFMIBVIEW;

// Mutable C globals are not concurrency-safe in Swift 6; they are only read, here.
static inline const oid *fw_auth_protocol(int sha256, size_t *length) {
    if (sha256) { *length = OID_LENGTH(usmHMAC192SHA256AuthProtocol); return usmHMAC192SHA256AuthProtocol; }
    *length = OID_LENGTH(usmHMACSHA1AuthProtocol);
    return usmHMACSHA1AuthProtocol;
}

static inline const oid *fw_priv_protocol(int aes256, size_t *length) {
    if (aes256) { *length = OID_LENGTH(usmAES256PrivProtocol); return usmAES256PrivProtocol; }
    *length = OID_LENGTH(usmAESPrivProtocol);
    return usmAESPrivProtocol;
}

/// Fills the SNMPv3 USM fields of a session and derives the keys (Ku) from the passphrases.
/// `level` is SNMP_SEC_LEVEL_*; returns SNMPERR_SUCCESS or the net-snmp error.
static inline int fw_session_set_usm(netsnmp_session *session, const char *user, int level,
                                     int authSHA256, const char *authPass, int privAES256, const char *privPass) {
    session->version = SNMP_VERSION_3;
    session->securityName = (char *)user;
    session->securityNameLen = strlen(user);
    session->securityModel = SNMP_SEC_MODEL_USM;
    session->securityLevel = level;
    if (level >= SNMP_SEC_LEVEL_AUTHNOPRIV) {
        size_t length = 0;
        const oid *proto = fw_auth_protocol(authSHA256, &length);
        session->securityAuthProto = (oid *)proto;
        session->securityAuthProtoLen = length;
        session->securityAuthKeyLen = USM_AUTH_KU_LEN;
        int status = generate_Ku(proto, (u_int)length, (const u_char *)authPass, strlen(authPass),
                                 session->securityAuthKey, &session->securityAuthKeyLen);
        if (status != SNMPERR_SUCCESS) return status;
    }
    if (level == SNMP_SEC_LEVEL_AUTHPRIV) {
        size_t length = 0;
        const oid *proto = fw_priv_protocol(privAES256, &length);
        session->securityPrivProto = (oid *)proto;
        session->securityPrivProtoLen = length;
        session->securityPrivKeyLen = USM_PRIV_KU_LEN;
        // The privacy key is derived with the authentication hash (RFC 3826).
        size_t authLength = 0;
        const oid *authProto = fw_auth_protocol(authSHA256, &authLength);
        int status = generate_Ku(authProto, (u_int)authLength, (const u_char *)privPass, strlen(privPass),
                                 session->securityPrivKey, &session->securityPrivKeyLen);
        if (status != SNMPERR_SUCCESS) return status;
    }
    return SNMPERR_SUCCESS;
}

static inline void fw_session_set_engine_id(netsnmp_session *session, const u_char *id, size_t length) {
    session->securityEngineID = (u_char *)id;
    session->securityEngineIDLen = length;
    session->contextEngineID = (u_char *)id;
    session->contextEngineIDLen = length;
}

/// After an engine-ID discovery report: net-snmp has copied the agent's engine ID (and boots and
/// time) into the session; record the time, default the context engine ID, and create the USM
/// user with keys localised for that engine. Returns SNMPERR_SUCCESS, or an error when the report
/// carried no engine ID.
static inline int fw_session_adopt_discovered_engine(netsnmp_session *session) {
    if (session->securityEngineIDLen == 0 || session->securityEngineID == NULL) return SNMPERR_UNKNOWN_ENG_ID;
    // Whatever the list held for this engine did not come from polling it (a trap with its engine
    // ID, or an earlier life of the agent): the agent's own report decides.
    free_enginetime(session->securityEngineID, session->securityEngineIDLen);
    if (session->engineBoots != 0 || session->engineTime != 0) {
        set_enginetime(session->securityEngineID, (u_int)session->securityEngineIDLen,
                       session->engineBoots, session->engineTime, 1);
    }
    if (session->contextEngineIDLen == 0) {
        u_char *copy = (u_char *)malloc(session->securityEngineIDLen);
        if (copy == NULL) return SNMPERR_MALLOC;
        memcpy(copy, session->securityEngineID, session->securityEngineIDLen);
        free(session->contextEngineID);
        session->contextEngineID = copy;
        session->contextEngineIDLen = session->securityEngineIDLen;
    }
    return create_user_from_session(session);
}

/// What net-snmp's process-wide engine-time list (lcd_time.c) holds for one engine: the
/// notion of a remote engine's boots and time that SNMPv3 timeliness checks use, shared by
/// every session, requests and received traps alike.
typedef struct {
    int known;
    u_int engineTime;
    u_int engineBoot;
    time_t lastReceivedEngineTime;
    u_int authenticatedFlag;
} fw_enginetime_snapshot;

static inline fw_enginetime_snapshot fw_enginetime_save(const u_char *id, size_t length) {
    fw_enginetime_snapshot snapshot;
    memset(&snapshot, 0, sizeof snapshot);
    Enginetime entry = search_enginetime_list(id, (u_int)length);
    if (entry != NULL) {
        snapshot.known = 1;
        snapshot.engineTime = entry->engineTime;
        snapshot.engineBoot = entry->engineBoot;
        snapshot.lastReceivedEngineTime = entry->lastReceivedEngineTime;
        snapshot.authenticatedFlag = entry->authenticatedFlag;
    }
    return snapshot;
}

/// Puts an engine's entry back exactly as `fw_enginetime_save` found it (or removes it).
static inline void fw_enginetime_restore(const u_char *id, size_t length, const fw_enginetime_snapshot *snapshot) {
    if (!snapshot->known) {
        free_enginetime((u_char *)id, length);
        return;
    }
    Enginetime entry = search_enginetime_list(id, (u_int)length);
    if (entry == NULL) {
        set_enginetime(id, (u_int)length, snapshot->engineBoot, snapshot->engineTime, snapshot->authenticatedFlag);
        entry = search_enginetime_list(id, (u_int)length);
        if (entry == NULL) return;
    }
    entry->engineTime = snapshot->engineTime;
    entry->engineBoot = snapshot->engineBoot;
    entry->lastReceivedEngineTime = snapshot->lastReceivedEngineTime;
    entry->authenticatedFlag = snapshot->authenticatedFlag;
}

/// RFC 3414 §3.2.7 b): would a message from `id` with these boots and time be rejected as not
/// in the time window of what the list holds? (net-snmp drops such a message without a word,
/// even an authentic notInTimeWindow report carrying the agent's real boots and time.)
static inline int fw_enginetime_would_reject(const u_char *id, size_t length, u_int boots, u_int time) {
    Enginetime entry = search_enginetime_list(id, (u_int)length);
    if (entry == NULL) return 0;
    if (entry->engineBoot > boots || entry->engineBoot == 0x7fffffff) return 1;
    if (entry->engineBoot == boots && time + 150 < entry->engineTime) return 1;
    return 0;
}

/// Forgets an engine's boots and time,/// Forgets an engine's boots and time, so that the next authentic message from it (a
/// notInTimeWindow report) sets them afresh (RFC 3414 §3.2.7 and §4).
static inline void fw_enginetime_forget(const u_char *id, size_t length) {
    free_enginetime((u_char *)id, length);
}

static inline void fw_large_fd_set(int fd, netsnmp_large_fd_set *set) { NETSNMP_LARGE_FD_SET(fd, set); }
static inline void fw_large_fd_clr(int fd, netsnmp_large_fd_set *set) { NETSNMP_LARGE_FD_CLR(fd, set); }

static inline int fw_session_socket(void *sessp) {
    netsnmp_transport *transport = snmp_sess_transport(sessp);
    return transport ? transport->sock : -1;
}

// setns(2) is declared only under _GNU_SOURCE, which this header must not define.
extern int setns(int fd, int nstype);

/// Moves the calling thread into the network namespace at `path` (/run/netns/NAME).
static inline int fw_enter_network_namespace(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int status = setns(fd, 0x40000000 /* CLONE_NEWNET */);
    int saved = errno;
    close(fd);
    errno = saved;
    return status;
}

// epoll, behind helpers: struct epoll_event is packed on x86-64, which Swift should not touch.
static inline int fw_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int fw_epoll_add(int epfd, int fd) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = EPOLLIN;
    event.data.fd = fd;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

static inline int fw_epoll_remove(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

/// Waits up to `timeout` ms; writes the ready descriptors to `fds` and returns their number.
static inline int fw_epoll_wait(int epfd, int *fds, int capacity, int timeout) {
    struct epoll_event events[512];
    if (capacity > 512) capacity = 512;
    int count = epoll_wait(epfd, events, capacity, timeout);
    for (int i = 0; i < count; i++) fds[i] = events[i].data.fd;
    return count;
}

static inline int fw_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// Parses a `createUser` line as snmptrapd.conf would (`[-e ENGINEID] NAME SHA-256 AUTHPASS AES PRIVPASS`).
static inline void fw_create_usm_user(const char *line) {
    char *copy = strdup(line);
    usm_parse_create_usmUser("createUser", copy);
    free(copy);
}

static inline void fw_session_set_server(netsnmp_session *session, netsnmp_callback callback, void *magic) {
    session->peername = SNMP_DEFAULT_PEERNAME;
    session->version = SNMP_DEFAULT_VERSION;
    session->community_len = SNMP_DEFAULT_COMMUNITY_LEN;
    session->retries = SNMP_DEFAULT_RETRIES;
    session->timeout = SNMP_DEFAULT_TIMEOUT;
    session->callback = callback;
    session->callback_magic = magic;
    session->authenticator = NULL;
    session->isAuthoritative = SNMP_SESS_UNKNOWNAUTH;
}

#endif
