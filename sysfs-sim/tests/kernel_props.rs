//! Property tests: random topologies and random sequences of `sriov_numvfs` writes, namespace
//! moves, renames and link changes. Each operation's outcome is checked against the kernel's
//! rules computed from the state before it, and the whole tree is checked for consistency after
//! it: VF links and addresses, one netdev per name per namespace, each VF netdev visible in
//! exactly its namespace, and discovery agreeing with the netdevs.

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use sriov_core::{NetOps, Netns, Sysfs, discover};
use sysfs_sim::{HostBuilder, NamingScheme, NicModel, NicSpec, SimHost};

#[derive(Debug, Clone)]
struct NicGen {
    model: u8,
    ports: u8,
    total: u32,
    autoprobe: bool,
    bound: bool,
    enabled: u32,
}

fn nic_gen() -> impl Strategy<Value = NicGen> {
    (
        0u8..4,
        1u8..=2,
        1u32..=8,
        any::<bool>(),
        prop::bool::weighted(0.85),
        0u32..=8,
    )
        .prop_map(|(model, ports, total, autoprobe, bound, enabled)| NicGen {
            model,
            ports,
            total,
            autoprobe,
            bound,
            enabled,
        })
}

fn build(nics: &[NicGen], naming: NamingScheme, seed: u64) -> SimHost {
    let buses = ["0000:3b:00.0", "0000:5e:00.0", "0000:86:00.0"];
    let mut b = HostBuilder::new(seed).naming(naming);
    for (i, n) in nics.iter().enumerate() {
        let model = match n.model {
            0 => NicModel::connectx5(),
            1 => NicModel::e810(),
            2 => NicModel::i350(),
            _ => NicModel::connectx6_dx(),
        };
        let total = if n.model == 2 {
            n.total.min(7)
        } else {
            n.total
        };
        let enable = if n.bound { n.enabled.min(total) } else { 0 };
        b = b.nic(
            NicSpec::new(model, buses[i].parse().unwrap())
                .ports(n.ports)
                .total_vfs(total)
                .autoprobe(n.autoprobe)
                .driver_bound(n.bound)
                .enable_vfs([enable]),
        );
    }
    b.build().unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    /// Write a value to the n-th PF's sriov_numvfs.
    Numvfs(usize, &'static str),
    /// Move the n-th link of namespace a to namespace b.
    Move(usize, usize, usize),
    /// Rename the n-th link of namespace a.
    Rename(usize, usize, &'static str),
    /// Set the n-th link of namespace a up or down.
    Up(usize, usize, bool),
    /// Delete the n-th pod namespace (and make a fresh one).
    Recreate(usize),
}

const VALUES: &[&str] = &[
    "0", "1", "2", "3", "4", "8", "9", "0x2", "07", "garbage", "", "-1", "65536", "2\n",
];
const NAMES: &[&str] = &[
    "net1",
    "eth0",
    "eth1",
    "ens2f0v0",
    "a:b",
    "",
    "averyveryverylongname",
    "pod0",
];

fn op_gen() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..6, prop::sample::select(VALUES)).prop_map(|(p, v)| Op::Numvfs(p, v)),
        3 => (0usize..3, 0usize..12, 0usize..3).prop_map(|(a, n, b)| Op::Move(a, n, b)),
        2 => (0usize..3, 0usize..12, prop::sample::select(NAMES)).prop_map(|(a, n, s)| Op::Rename(a, n, s)),
        2 => (0usize..3, 0usize..12, any::<bool>()).prop_map(|(a, n, u)| Op::Up(a, n, u)),
        1 => (1usize..3).prop_map(Op::Recreate),
    ]
}

/// `kstrtou16(.., 0, ..)` of the values above.
fn parse(v: &str) -> Result<u32, i32> {
    match v.trim_end_matches('\n') {
        "garbage" | "" | "-1" => Err(libc::EINVAL),
        "65536" => Err(libc::ERANGE),
        "0x2" => Ok(2),
        "07" => Ok(7),
        s => Ok(s.parse().unwrap()),
    }
}

fn errno(r: std::io::Result<()>) -> Option<i32> {
    r.err().map(|e| e.raw_os_error().unwrap_or(-1))
}

fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.len() <= 15 && !n.contains(':') && !n.contains('/') && !n.contains(' ')
}

/// Loopback by its link type (ARPHRD_LOOPBACK), whatever it has been renamed to.
fn is_loopback(host: &SimHost, ns: &Netns, name: &str) -> bool {
    let fs = host.sysfs_in(ns).unwrap();
    fs.read(Path::new(&format!("/sys/class/net/{name}/type")))
        .unwrap()
        == "772\n"
}

fn read_u32(fs: &dyn Sysfs, path: &str) -> u32 {
    fs.read(Path::new(path)).unwrap().trim().parse().unwrap()
}

fn check_tree(host: &SimHost, namespaces: &[Netns]) {
    let model = host.model();
    // one name per namespace, and every namespace's class/net lists exactly its netdevs
    let mut all_vf_netdevs = 0;
    for ns in namespaces {
        let links = host.net_ops().links(ns).unwrap();
        let names: BTreeSet<String> = links.iter().map(|l| l.name.clone()).collect();
        assert_eq!(
            names.len(),
            links.len(),
            "duplicate names in {ns}: {links:?}"
        );
        let fs = host.sysfs_in(ns).unwrap();
        let listed: BTreeSet<String> = fs
            .read_dir(Path::new("/sys/class/net"))
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(listed, names, "class/net of {ns}");
        for name in &names {
            let pci = host.pci_of_link(ns, name);
            if let Some(pci) = pci.filter(|p| model.is_vf(*p)) {
                all_vf_netdevs += 1;
                // visible in its device's net/ in this namespace only
                let dir = format!("/sys/bus/pci/devices/{pci}/net");
                assert_eq!(
                    fs.read_dir(Path::new(&dir)).unwrap(),
                    vec![name.clone()],
                    "{ns} {dir}"
                );
                for other in namespaces.iter().filter(|o| *o != ns) {
                    // the directory is there in every namespace; its entries are per namespace
                    let seen = host
                        .sysfs_in(other)
                        .unwrap()
                        .read_dir(Path::new(&dir))
                        .unwrap_or_else(|e| panic!("read_dir {dir} in {other}: {e}"));
                    assert!(seen.is_empty(), "{name} of {ns} also visible in {other}");
                }
            }
        }
    }
    // PFs: virtfn links match sriov_numvfs and point at VFs whose physfn points back
    let fs = host.sysfs();
    let pfs = discover(&fs).unwrap();
    let mut driver_vfs = 0;
    for pf in &pfs {
        let dir = format!("/sys/bus/pci/devices/{}", pf.pci);
        let numvfs = read_u32(&fs, &format!("{dir}/sriov_numvfs"));
        assert_eq!(pf.vfs.len() as u32, numvfs);
        let links = fs
            .read_dir(Path::new(&dir))
            .unwrap()
            .into_iter()
            .filter(|n| n.starts_with("virtfn"))
            .count();
        assert_eq!(links as u32, numvfs, "{dir}");
        assert!(numvfs <= pf.total_vfs);
        for vf in &pf.vfs {
            assert_eq!(Some(vf.pci), pf.vf_address(vf.index));
            let physfn = fs
                .read_link(Path::new(&format!(
                    "/sys/bus/pci/devices/{}/physfn",
                    vf.pci
                )))
                .unwrap();
            assert_eq!(physfn, Path::new(&format!("../{}", pf.pci)));
            if vf.driver.is_some() {
                driver_vfs += 1;
            }
            // discovery's netdev is the host-namespace one, if the VF netdev is in the host
            let host_name = vf.netdev.clone();
            let in_host = host
                .net_ops()
                .links(&Netns::Host)
                .unwrap()
                .into_iter()
                .find(|l| host.pci_of_link(&Netns::Host, &l.name) == Some(vf.pci));
            assert_eq!(host_name, in_host.map(|l| l.name));
        }
    }
    // every VF with a driver has exactly one netdev somewhere
    assert_eq!(all_vf_netdevs, driver_vfs);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_follow_the_kernels_rules(
        nics in prop::collection::vec(nic_gen(), 1..=3),
        naming in prop_oneof![Just(NamingScheme::Kernel), Just(NamingScheme::Systemd)],
        seed: u64,
        ops in prop::collection::vec(op_gen(), 1..30),
    ) {
        let host = build(&nics, naming, seed);
        let net = host.net_ops();
        let mut namespaces = vec![Netns::Host, host.add_netns("pod1").unwrap(), host.add_netns("pod2").unwrap()];
        let mut generation = 0;
        check_tree(&host, &namespaces);
        for op in ops {
            match op {
                Op::Numvfs(i, value) => {
                    let pfs = discover(&host.sysfs()).unwrap();
                    if pfs.is_empty() { continue; }
                    let pf = &pfs[i % pfs.len()];
                    let expected = match parse(value) {
                        Err(e) => Some(e),
                        Ok(n) if n > pf.total_vfs => Some(libc::ERANGE),
                        Ok(n) if n == pf.num_vfs => None,
                        Ok(_) if pf.driver.is_none() => Some(libc::ENOENT),
                        Ok(0) => None,
                        Ok(_) if pf.num_vfs != 0 => Some(libc::EBUSY),
                        Ok(_) => None,
                    };
                    let path = format!("/sys/bus/pci/devices/{}/sriov_numvfs", pf.pci);
                    let got = errno(host.sysfs().write(Path::new(&path), value));
                    prop_assert_eq!(got, expected, "write {:?} to {}", value, path);
                    let after = read_u32(&host.sysfs(), &path);
                    let want = match (expected, parse(value)) { (None, Ok(n)) => n, _ => pf.num_vfs };
                    prop_assert_eq!(after, want);
                }
                Op::Move(a, n, b) => {
                    let (from, to) = (&namespaces[a], &namespaces[b]);
                    let links = net.links(from).unwrap();
                    let Some(link) = links.get(n % links.len().max(1)) else { continue };
                    let target_names: BTreeSet<String> = net.links(to).unwrap().into_iter().map(|l| l.name).collect();
                    let expected = if from == to { None }
                        else if is_loopback(&host, from, &link.name) { Some(libc::EINVAL) }
                        else if target_names.contains(&link.name) { Some(libc::EEXIST) }
                        else { None };
                    let got = errno(net.move_link(from, &link.name, to));
                    prop_assert_eq!(got, expected, "move {} {} -> {}", link.name, from, to);
                    if expected.is_none() && from != to {
                        let moved = net.link(to, &link.name).unwrap();
                        prop_assert!(!moved.admin_up, "a moved link is down");
                        prop_assert!(net.addresses(to, &link.name).unwrap().is_empty());
                    }
                }
                Op::Rename(a, n, new) => {
                    let ns = &namespaces[a];
                    let links = net.links(ns).unwrap();
                    let Some(link) = links.get(n % links.len().max(1)) else { continue };
                    let taken = links.iter().any(|l| l.name == new);
                    // a name over 15 bytes fails the netlink policy on IFLA_IFNAME first; then
                    // Linux 6.1 refuses to rename an up link before looking at the name
                    let expected = if new.len() > 15 { Some(libc::ERANGE) }
                        else if link.admin_up { Some(libc::EBUSY) }
                        else if !valid_name(new) { Some(libc::EINVAL) }
                        else if new == link.name { None }
                        else if taken { Some(libc::EEXIST) }
                        else { None };
                    prop_assert_eq!(errno(net.rename_link(ns, &link.name, new)), expected, "rename {} to {:?} in {}", link.name, new, ns);
                }
                Op::Up(a, n, up) => {
                    let ns = &namespaces[a];
                    let links = net.links(ns).unwrap();
                    let Some(link) = links.get(n % links.len().max(1)) else { continue };
                    prop_assert_eq!(errno(net.set_link_up(ns, &link.name, up)), None);
                    prop_assert_eq!(net.link(ns, &link.name).unwrap().admin_up, up);
                }
                Op::Recreate(i) => {
                    let in_pod: usize = net.links(&namespaces[i]).unwrap().iter().filter(|l| l.name != "lo").count();
                    let host_before = net.links(&Netns::Host).unwrap().len();
                    host.del_netns(&namespaces[i]).unwrap();
                    // physical netdevs come back to the host, none are lost
                    let host_after = net.links(&Netns::Host).unwrap().len();
                    prop_assert!(host_after <= host_before + in_pod);
                    generation += 1;
                    namespaces[i] = host.add_netns(&format!("pod{i}-{generation}")).unwrap();
                }
            }
            check_tree(&host, &namespaces);
        }
        // the rendered host view reads the same as the simulator
        let dir = testbed::scratch_dir().unwrap();
        host.render(dir.path(), &Netns::Host).unwrap();
        prop_assert_eq!(discover(&sriov_core::FsSysfs::new(dir.path())).unwrap(), discover(&host.sysfs()).unwrap());
    }
}
