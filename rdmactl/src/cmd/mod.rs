//! One module per subcommand.

pub mod dhcp;
pub mod dhcp_lease;
pub mod dhcp_serve;
pub mod discover;
pub mod ibdev2netdev;
pub mod rdma;
pub mod reconcile;
pub mod sim;
pub mod simulate;

/// The error type every subcommand returns.
pub type CmdError = Box<dyn std::error::Error + Send + Sync>;

/// An error and its sources on one line: `outer: inner: innermost`, without repeating a source
/// whose text the outer message already contains.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = s.source();
    }
    line.replace('\n', " ")
}
