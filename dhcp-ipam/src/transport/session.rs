//! A blocking driver of one [`Client`] over [`ClientSockets`] and the wall clock, for
//! command-line runs and tests: acquire, hold (renewing), release.

use std::time::Duration;

use crate::client::{Client, Event, Lease, Output, State};
use crate::error::Error;
use crate::transport::arp::ArpProbe;
use crate::transport::configure::{apply_lease, remove_lease};
use crate::transport::{ClientSockets, Interface};
use dhcp_codec::Time;

/// Whether a [`Session`] changes its interface as the client's leases come and go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InterfaceChanges {
    Apply,
    Leave,
}

/// One client driven over real sockets with the wall clock.
///
/// The session applies the client's events to the interface, as a DHCP client does: the
/// address (with the lease's lifetime) and routes on BOUND, a new lifetime on each renewal,
/// removal when the lease is dropped. [`Session::leave_interface_alone`] makes it only report
/// leases.
#[derive(Debug)]
pub struct Session {
    client: Client,
    sockets: ClientSockets,
    interface: InterfaceChanges,
    current: Option<Lease>,
    events: Vec<Event>,
    arp_check: Option<Duration>,
    declined: Vec<(std::net::Ipv4Addr, [u8; 6])>,
}

impl Session {
    /// A session for `client` on `iface`, configuring the interface.
    pub fn new(client: Client, iface: Interface) -> Self {
        Session {
            client,
            sockets: ClientSockets::new(iface),
            interface: InterfaceChanges::Apply,
            current: None,
            events: Vec::new(),
            arp_check: None,
            declined: Vec::new(),
        }
    }

    /// Leaves the interface as it is: leases are only reported (someone else configures it).
    pub fn leave_interface_alone(mut self) -> Self {
        self.interface = InterfaceChanges::Leave;
        self
    }

    /// Before using a newly acquired address, probe for it by ARP for `wait`; when another
    /// host answers, DECLINE the address (and start over after the client's decline wait).
    pub fn with_arp_check(mut self, wait: Duration) -> Self {
        self.arp_check = Some(wait);
        self
    }

    /// Addresses declined after a conflict, with the hardware address that claimed each.
    pub fn declined(&self) -> &[(std::net::Ipv4Addr, [u8; 6])] {
        &self.declined
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The lease in use, if any.
    pub fn lease(&self) -> Option<&Lease> {
        self.current.as_ref()
    }

    /// Every event so far, oldest first.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Runs until the client is bound; fails with [`Error::Timeout`] after `timeout`.
    pub fn acquire(&mut self, timeout: Duration) -> Result<Lease, Error> {
        let until = Time::now() + timeout;
        self.run(until, |e| matches!(e, Event::Bound(_)))?;
        match (&self.current, self.client.state()) {
            (Some(l), State::Bound) => Ok(l.clone()),
            _ => Err(Error::Timeout {
                what: "acquire a lease".into(),
                ifname: self.sockets.interface().name.clone(),
                secs: timeout.as_secs(),
            }),
        }
    }

    /// Runs for `duration`, renewing as the lease's timers say.
    pub fn hold(&mut self, duration: Duration) -> Result<(), Error> {
        let until = Time::now() + duration;
        self.run(until, |_| false).map(drop)
    }

    /// Runs until `until` or until `stop` returns true for an event; returns whether `stop`
    /// did.
    pub fn run(
        &mut self,
        until: Time,
        mut stop: impl FnMut(&Event) -> bool,
    ) -> Result<bool, Error> {
        loop {
            if self.process(&mut stop)? {
                return Ok(true);
            }
            let now = Time::now();
            if now >= until {
                return Ok(false);
            }
            let next = self.client.poll_timeout().map_or(until, |t| t.min(until));
            let wait = (next - now).min(Duration::from_secs(3600));
            if !wait.is_zero() {
                self.sockets.wait(wait)?;
            }
            while let Some(m) = self.sockets.try_recv()? {
                self.client.handle_message(Time::now(), &m);
                if self.process(&mut stop)? {
                    return Ok(true);
                }
            }
            self.client.handle_timeout(Time::now());
        }
    }

    /// Releases the lease (RELEASE unicast from the address, then the address is removed) and
    /// stops the client.
    pub fn release(&mut self) -> Result<(), Error> {
        self.client.release(Time::now())?;
        self.process(&mut |_| false)?;
        self.sockets.close();
        Ok(())
    }

    /// Stops without releasing; the address stays until its lifetime runs out.
    pub fn stop(&mut self) {
        self.client.stop();
        self.sockets.close();
    }

    /// Sends what the client wants sent and applies its events; true when `stop` said so.
    fn process(&mut self, stop: &mut impl FnMut(&Event) -> bool) -> Result<bool, Error> {
        let mut stopped = false;
        while let Some(out) = self.client.poll_output() {
            match out {
                Output::Transmit(t) => {
                    if let Err(e) = self.sockets.send(&t) {
                        // The client retransmits on its own schedule.
                        tracing::warn!("{e}");
                    }
                }
                Output::Event(e) => {
                    if let (Event::Bound(l), Some(wait)) = (&e, self.arp_check) {
                        let probe = ArpProbe::start(self.sockets.interface(), l.ip())?;
                        let conflict = probe.wait(wait).map_err(|source| Error::Socket {
                            op: format!("ARP probe for {}", l.ip()),
                            ifname: self.sockets.interface().name.clone(),
                            source,
                        })?;
                        if let Some(mac) = conflict {
                            tracing::warn!(
                                "{} is in use by {}: declining it",
                                l.ip(),
                                dhcp_codec::HwAddr::mac(mac)
                            );
                            self.declined.push((l.ip(), mac));
                            self.events.push(e);
                            self.client.decline(Time::now())?;
                            continue;
                        }
                    }
                    self.apply(&e)?;
                    stopped |= stop(&e);
                    self.events.push(e);
                }
            }
        }
        if matches!(self.client.state(), State::Bound | State::Stopped) {
            self.sockets.close();
        }
        Ok(stopped)
    }

    fn apply(&mut self, e: &Event) -> Result<(), Error> {
        let iface = self.sockets.interface().clone();
        match e {
            Event::Bound(l) | Event::Renewed(l) => {
                if self.interface == InterfaceChanges::Apply {
                    apply_lease(&iface, l, Time::now())?;
                }
                self.current = Some(l.clone());
            }
            Event::Drop { .. } => {
                if let Some(l) = self.current.take()
                    && self.interface == InterfaceChanges::Apply
                {
                    remove_lease(&iface, &l)?;
                }
            }
            Event::Nak { server, message } => {
                tracing::info!(
                    "DHCPNAK from {server:?} on {}: {}",
                    iface.name,
                    message.as_deref().unwrap_or("")
                );
            }
        }
        Ok(())
    }
}
