//! PCI identities of the NICs the simulator knows (vendor and device IDs from rdma-core's mlx5
//! table and the PCI ID database).

use serde::{Deserialize, Serialize};

/// How a NIC lays out its VFs' routing IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VfLayout {
    /// The VFs of each port follow the PFs contiguously, port after port (ConnectX, E810):
    /// port `k` of `F` ports with `T` VFs each has offset `F - k + k*T`, stride 1.
    Contiguous,
    /// Every port uses the same offset and stride, and the ports' VFs interleave (I350:
    /// offset 128, stride 4).
    Interleaved {
        /// `sriov_offset`.
        offset: u16,
        /// `sriov_stride`.
        stride: u16,
    },
}

/// A NIC model: what its PFs and VFs look like on the PCI bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicModel {
    /// Marketing name.
    pub name: String,
    /// PCI vendor ID.
    pub vendor: u16,
    /// PF device ID.
    pub device: u16,
    /// VF device ID (`sriov_vf_device`).
    pub vf_device: u16,
    /// PCI subsystem device ID.
    pub subsystem_device: u16,
    /// The PF driver.
    pub driver: String,
    /// The VF driver.
    pub vf_driver: String,
    /// Link speed in Mb/s.
    pub speed_mbps: u32,
    /// VF routing-ID layout.
    pub vf_layout: VfLayout,
    /// Default `sriov_totalvfs`.
    pub default_total_vfs: u32,
    /// True for mlx5 functions (they get RDMA devices).
    pub mlx5: bool,
    /// Board ID (PSID) printed in `board_id`.
    pub board_id: String,
}

/// A Mellanox (NVIDIA) mlx5 NIC: `mlx5_core` for PFs and VFs, contiguous VFs, RDMA devices.
fn mlx5(name: &str, device: u16, vf_device: u16, speed_mbps: u32) -> NicModel {
    NicModel {
        name: name.into(),
        vendor: 0x15b3,
        device,
        vf_device,
        subsystem_device: 0x0008,
        driver: "mlx5_core".into(),
        vf_driver: "mlx5_core".into(),
        speed_mbps,
        vf_layout: VfLayout::Contiguous,
        default_total_vfs: 8,
        mlx5: true,
        board_id: "MT_0000000008".into(),
    }
}

impl NicModel {
    /// ConnectX-4 (15b3:1013, VF 1014).
    pub fn connectx4() -> Self {
        mlx5("ConnectX-4", 0x1013, 0x1014, 100_000)
    }
    /// ConnectX-4 Lx (15b3:1015, VF 1016).
    pub fn connectx4_lx() -> Self {
        mlx5("ConnectX-4 Lx", 0x1015, 0x1016, 25_000)
    }
    /// ConnectX-5 (15b3:1017, VF 1018), the reference deployment's NIC.
    pub fn connectx5() -> Self {
        mlx5("ConnectX-5", 0x1017, 0x1018, 25_000)
    }
    /// ConnectX-5 Ex (15b3:1019, VF 101a).
    pub fn connectx5_ex() -> Self {
        mlx5("ConnectX-5 Ex", 0x1019, 0x101a, 100_000)
    }
    /// ConnectX-6 (15b3:101b, VF 101c).
    pub fn connectx6() -> Self {
        mlx5("ConnectX-6", 0x101b, 0x101c, 200_000)
    }
    /// ConnectX-6 Dx (15b3:101d, generic VF 101e).
    pub fn connectx6_dx() -> Self {
        mlx5("ConnectX-6 Dx", 0x101d, 0x101e, 100_000)
    }
    /// ConnectX-6 Lx (15b3:101f, generic VF 101e).
    pub fn connectx6_lx() -> Self {
        mlx5("ConnectX-6 Lx", 0x101f, 0x101e, 25_000)
    }
    /// ConnectX-7 (15b3:1021, generic VF 101e).
    pub fn connectx7() -> Self {
        mlx5("ConnectX-7", 0x1021, 0x101e, 400_000)
    }
    /// BlueField (ConnectX-5 based, 15b3:a2d2, VF a2d3).
    pub fn bluefield() -> Self {
        mlx5("BlueField", 0xa2d2, 0xa2d3, 25_000)
    }
    /// BlueField-2 (15b3:a2d6, generic VF 101e).
    pub fn bluefield2() -> Self {
        mlx5("BlueField-2", 0xa2d6, 0x101e, 100_000)
    }
    /// Intel E810-C (8086:159b, VF 1889), drivers ice / iavf.
    pub fn e810() -> Self {
        NicModel {
            name: "E810-C".into(),
            vendor: 0x8086,
            device: 0x159b,
            vf_device: 0x1889,
            subsystem_device: 0x0003,
            driver: "ice".into(),
            vf_driver: "iavf".into(),
            speed_mbps: 100_000,
            vf_layout: VfLayout::Contiguous,
            default_total_vfs: 128,
            mlx5: false,
            board_id: String::new(),
        }
    }
    /// Intel I350 (8086:1521, VF 1520), drivers igb / igbvf; VFs at offset 128, stride 4.
    pub fn i350() -> Self {
        NicModel {
            name: "I350".into(),
            vendor: 0x8086,
            device: 0x1521,
            vf_device: 0x1520,
            subsystem_device: 0x0001,
            driver: "igb".into(),
            vf_driver: "igbvf".into(),
            speed_mbps: 1_000,
            vf_layout: VfLayout::Interleaved {
                offset: 128,
                stride: 4,
            },
            default_total_vfs: 7,
            mlx5: false,
            board_id: String::new(),
        }
    }

    /// Every model above.
    pub fn all() -> Vec<NicModel> {
        vec![
            Self::connectx4(),
            Self::connectx4_lx(),
            Self::connectx5(),
            Self::connectx5_ex(),
            Self::connectx6(),
            Self::connectx6_dx(),
            Self::connectx6_lx(),
            Self::connectx7(),
            Self::bluefield(),
            Self::bluefield2(),
            Self::e810(),
            Self::i350(),
        ]
    }
}
