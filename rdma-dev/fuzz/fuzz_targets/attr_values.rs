//! Every parser of RDMA sysfs attribute values on arbitrary text (GUIDs, GIDs, `dev` numbers,
//! link-layer addresses, port and physical states, node types, link layers, hex and decimal
//! numbers, `pfNames` entries): a value or a typed error, never a panic; and whatever parses
//! prints back to text that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdma_dev::attrs::{
    DevNumber, Gid, Guid, HwAddr, LinkLayer, NodeType, PhysState, PortState, attr_value,
    parse_decimal, parse_hex_u16,
};
use rdma_dev::resource::PfName;

fn round_trip<T>(text: &str)
where
    T: std::str::FromStr + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    if let Ok(v) = text.parse::<T>() {
        let again: T = v
            .to_string()
            .parse()
            .unwrap_or_else(|_| panic!("{v:?} printed as {v} does not parse"));
        assert_eq!(again, v);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = attr_value(text);
    round_trip::<Guid>(text);
    round_trip::<Gid>(text);
    round_trip::<DevNumber>(text);
    round_trip::<HwAddr>(text);
    round_trip::<PortState>(text);
    round_trip::<PhysState>(text);
    round_trip::<NodeType>(text);
    round_trip::<LinkLayer>(text);
    let _ = parse_hex_u16(text);
    let _ = parse_decimal(text);
    if let Ok(p) = PfName::parse(text) {
        let _ = p.includes(0);
    }
});
