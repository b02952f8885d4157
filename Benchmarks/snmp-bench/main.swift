print("snmp-bench")
