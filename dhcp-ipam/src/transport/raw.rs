//! The few unsafe conversions the raw sockets need, in one place.

use std::mem::MaybeUninit;

use socket2::{SockAddr, SockAddrStorage};

/// A `sockaddr_ll` for `ifindex` with ethertype `protocol` (host order) and, when given, a
/// 6-byte destination.
#[allow(unsafe_code)]
pub(crate) fn link_addr(ifindex: u32, protocol: u16, dest: Option<[u8; 6]>) -> SockAddr {
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: sockaddr_ll is one of the platform's sockaddr types and fits in the storage.
    let ll = unsafe { storage.view_as::<libc::sockaddr_ll>() };
    ll.sll_family = libc::AF_PACKET as u16;
    ll.sll_protocol = protocol.to_be();
    ll.sll_ifindex = ifindex as i32;
    if let Some(mac) = dest {
        ll.sll_halen = 6;
        ll.sll_addr[..6].copy_from_slice(&mac);
    }
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: the storage holds an initialised sockaddr_ll of `len` bytes.
    unsafe { SockAddr::new(storage, len) }
}

/// A receive buffer as socket2 wants it.
#[allow(unsafe_code)]
pub(crate) fn as_uninit(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: MaybeUninit<u8> has the layout of u8, and every initialised byte is a valid
    // MaybeUninit; the socket only writes bytes into it.
    unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) }
}
