//! Names of Mellanox/NVIDIA parts by PCI device ID (the IDs of rdma-core's mlx4/mlx5 provider
//! tables, the names of the PCI ID database).

/// The Mellanox vendor ID.
pub const MELLANOX_VENDOR: u16 = 0x15b3;

/// The part name of a Mellanox PCI device ID (`0x1017` -> `ConnectX-5`).
///
/// ```
/// assert_eq!(rdma_dev::part_name(0x1018), Some("ConnectX-5 Virtual Function"));
/// assert_eq!(rdma_dev::part_name(4119), Some("ConnectX-5")); // MT4119
/// assert_eq!(rdma_dev::part_name(0xffff), None);
/// ```
pub fn part_name(device: u16) -> Option<&'static str> {
    Some(match device {
        0x1003 => "ConnectX-3",
        0x1004 => "ConnectX-3 Virtual Function",
        0x1007 => "ConnectX-3 Pro",
        0x1011 => "Connect-IB",
        0x1012 => "Connect-IB Virtual Function",
        0x1013 => "ConnectX-4",
        0x1014 => "ConnectX-4 Virtual Function",
        0x1015 => "ConnectX-4 Lx",
        0x1016 => "ConnectX-4 Lx Virtual Function",
        0x1017 => "ConnectX-5",
        0x1018 => "ConnectX-5 Virtual Function",
        0x1019 => "ConnectX-5 Ex",
        0x101a => "ConnectX-5 Ex Virtual Function",
        0x101b => "ConnectX-6",
        0x101c => "ConnectX-6 Virtual Function",
        0x101d => "ConnectX-6 Dx",
        0x101e => "ConnectX Family mlx5Gen Virtual Function",
        0x101f => "ConnectX-6 Lx",
        0x1021 => "ConnectX-7",
        0x1023 => "ConnectX-8",
        0xa2d2 => "BlueField",
        0xa2d3 => "BlueField Virtual Function",
        0xa2d6 => "BlueField-2",
        0xa2dc => "BlueField-3",
        _ => return None,
    })
}
