//! DHCPv4 leasing for pod interfaces: a sans-I/O client, lease persistence, renewals, a server-side allocator, netns transports, a CNI IPAM plugin.
