#ifndef FOREWARN_CPCAP_SHIM_H
#define FOREWARN_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
