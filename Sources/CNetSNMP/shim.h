#ifndef FOREWARN_CNETSNMP_SHIM_H
#define FOREWARN_CNETSNMP_SHIM_H

// net-snmp-config.h must come first; it defines _GNU_SOURCE, which makes glibc's fd_set
// differ from the one Foundation imports, so it is undefined again before anything else.
#include <net-snmp/net-snmp-config.h>
#undef _GNU_SOURCE
#include <net-snmp/net-snmp-includes.h>

// Composite macros do not import into Swift: expose them as constants.
static const int fw_snmp_msg_get = SNMP_MSG_GET;
static const int fw_snmp_msg_getnext = SNMP_MSG_GETNEXT;
static const int fw_snmp_msg_getbulk = SNMP_MSG_GETBULK;
static const int fw_snmp_msg_response = SNMP_MSG_RESPONSE;
static const int fw_snmp_msg_trap = SNMP_MSG_TRAP;
static const int fw_snmp_msg_trap2 = SNMP_MSG_TRAP2;
static const int fw_snmp_msg_inform = SNMP_MSG_INFORM;
static const int fw_snmp_msg_report = SNMP_MSG_REPORT;

#endif
