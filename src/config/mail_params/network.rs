//! The network checks of mail_params_init(): `inet_protocols` (the
//! protocols named and those the kernel supports), the addresses of
//! `inet_interfaces` (which must resolve, and be this machine's), and the
//! computed default of `mynetworks`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use nix::errno::Errno;
use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

use crate::diag;
use crate::error::Result;
use crate::fatal;

/// The IP protocols in use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Protocols {
    pub ipv4: bool,
    pub ipv6: bool,
}

impl Protocols {
    fn any(self) -> bool {
        self.ipv4 || self.ipv6
    }

    fn admits(self, address: &IpAddr) -> bool {
        match address {
            IpAddr::V4(_) => self.ipv4,
            IpAddr::V6(_) => self.ipv6,
        }
    }
}

/// inet_proto_init(): the names (`all`, `ipv4`, `ipv6`, case-sensitive),
/// then a protocol the kernel lacks is dropped with a warning.
pub fn protocols(value: &[u8]) -> Result<Protocols> {
    let mut wanted = Protocols::default();
    for word in value
        .split(|b| b", \t\r\n".contains(b))
        .filter(|w| !w.is_empty())
    {
        match word {
            b"all" => {
                wanted = Protocols {
                    ipv4: true,
                    ipv6: true,
                }
            }
            b"ipv4" => wanted.ipv4 = true,
            b"ipv6" => wanted.ipv6 = true,
            _ => fatal!(
                b"unknown inet_protocols value \"",
                word,
                b"\" in \"",
                value,
                b"\""
            ),
        }
    }
    if wanted.ipv6 && !supported(AddressFamily::Inet6, "IPv6")? {
        wanted.ipv6 = false;
    }
    if wanted.ipv4 && !supported(AddressFamily::Inet, "IPv4")? {
        wanted.ipv4 = false;
    }
    Ok(wanted)
}

/// Whether the kernel can make a socket of `family`.
fn supported(family: AddressFamily, name: &str) -> Result<bool> {
    match socket(family, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None) {
        Ok(_) => Ok(true),
        Err(err @ (Errno::EAFNOSUPPORT | Errno::EPROTONOSUPPORT)) => {
            let text = format!(
                "inet_protocols: disabling {name} name/address support: {}",
                err.desc()
            );
            diag::warn(text.as_bytes());
            Ok(false)
        }
        Err(err) => fatal!(b"socket: ", err.desc()),
    }
}

/// An address of this machine and its netmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Local {
    address: IpAddr,
    netmask: Option<IpAddr>,
}

/// inet_addr_local(): the addresses of the interfaces that are up.
fn local_addresses(protocols: Protocols) -> Result<Vec<Local>> {
    let interfaces = match getifaddrs() {
        Ok(interfaces) => interfaces,
        Err(err) => fatal!(b"inet_addr_local[getifaddrs]: getifaddrs: ", err.desc()),
    };
    let ip = |storage: &nix::sys::socket::SockaddrStorage| -> Option<IpAddr> {
        if let Some(v4) = storage.as_sockaddr_in() {
            Some(IpAddr::V4(v4.ip()))
        } else {
            storage.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
        }
    };
    let mut found = Vec::new();
    for interface in interfaces {
        if !interface.flags.contains(InterfaceFlags::IFF_UP) {
            continue;
        }
        let Some(address) = interface.address.as_ref().and_then(ip) else {
            continue;
        };
        if !protocols.admits(&address) || address.is_unspecified() {
            continue;
        }
        found.push(Local {
            address,
            netmask: interface.netmask.as_ref().and_then(ip),
        });
    }
    Ok(found)
}

/// own_inet_addr_list(): this instance's addresses, from `inet_interfaces`
/// (`all`, `loopback-only`, or hosts and addresses, each of which must be
/// this machine's), with their netmasks.
fn own_addresses(protocols: Protocols, interfaces: &[u8]) -> Result<Vec<Local>> {
    let no_interfaces = || fatal!(b"could not find any active network interfaces");
    if interfaces == b"all" {
        let local = local_addresses(protocols)?;
        return if local.is_empty() {
            no_interfaces()
        } else {
            Ok(local)
        };
    }
    if interfaces == b"loopback-only" {
        let local = local_addresses(protocols)?;
        if local.is_empty() {
            return no_interfaces();
        }
        return Ok(local
            .into_iter()
            .filter(|l| l.address.is_loopback())
            .collect());
    }
    let mut wanted: Vec<IpAddr> = Vec::new();
    for host in interfaces
        .split(|b| b" \t,".contains(b))
        .filter(|h| !h.is_empty())
    {
        let addresses: Vec<IpAddr> = resolve(host)
            .into_iter()
            .filter(|a| protocols.admits(a))
            .collect();
        if addresses.is_empty() {
            fatal!(b"config variable inet_interfaces: host not found: ", host);
        }
        for address in addresses {
            if !wanted.contains(&address) {
                wanted.push(address);
            }
        }
    }
    let local = local_addresses(protocols)?;
    if local.is_empty() {
        return no_interfaces();
    }
    wanted
        .into_iter()
        .map(
            |address| match local.iter().find(|l| l.address == address) {
                Some(found) => Ok(*found),
                None => fatal!(format!(
                    "parameter inet_interfaces: no local interface found for {address}"
                )),
            },
        )
        .collect()
}

/// The addresses a host name or address (`[address]` too) stands for.
fn resolve(host: &[u8]) -> Vec<IpAddr> {
    let Ok(text) = std::str::from_utf8(host) else {
        return Vec::new();
    };
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return inner.parse().map(|a| vec![a]).unwrap_or_default();
    }
    (text, 0u16)
        .to_socket_addrs()
        .map(|found| found.map(|s| s.ip()).collect())
        .unwrap_or_default()
}

/// How `mynetworks` is computed from the interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Class,
    Subnet,
    Host,
}

/// mynetworks_style: exactly one of `class`, `subnet`, `host`.
fn style(value: &[u8]) -> Result<Style> {
    let mut styles = Vec::new();
    for word in value
        .split(|b| b", \t\r\n".contains(b))
        .filter(|w| !w.is_empty())
    {
        let style = match word {
            b"class" => Style::Class,
            b"subnet" => Style::Subnet,
            b"host" => Style::Host,
            _ => fatal!(
                b"unknown mynetworks mask style value \"",
                word,
                b"\" in \"",
                value,
                b"\""
            ),
        };
        if !styles.contains(&style) {
            styles.push(style);
        }
    }
    match styles[..] {
        [one] => Ok(one),
        _ => fatal!(
            b"bad mynetworks_style value: ",
            value,
            b"; specify exactly one value"
        ),
    }
}

/// The length of a netmask's prefix.
fn prefix_length(netmask: Option<IpAddr>, full: u32) -> u32 {
    match netmask {
        Some(IpAddr::V4(m)) => u32::from(m).leading_ones(),
        Some(IpAddr::V6(m)) => u128::from(m).leading_ones(),
        None => full,
    }
}

/// The `mynetworks` default: the networks of this instance's addresses,
/// as `mynetworks_style` says.
pub fn default_mynetworks(
    protocols: Protocols,
    interfaces: &[u8],
    style_value: &[u8],
) -> Result<Vec<u8>> {
    if !protocols.any() {
        return Ok(Vec::new());
    }
    let style = style(style_value)?;
    let mut networks: Vec<String> = Vec::new();
    for own in own_addresses(protocols, interfaces)? {
        let network = match own.address {
            IpAddr::V4(address) => {
                let bits = u32::from(address);
                let length = match style {
                    Style::Host => 32,
                    Style::Subnet => prefix_length(own.netmask, 32),
                    Style::Class => match bits >> 24 {
                        0..=127 => 8,
                        128..=191 => 16,
                        192..=223 => 24,
                        _ => 32,
                    },
                };
                let mask = if length == 0 {
                    0
                } else {
                    u32::MAX << (32 - length)
                };
                format!("{}/{length}", Ipv4Addr::from(bits & mask))
            }
            IpAddr::V6(address) => {
                let bits = u128::from(address);
                let length = match style {
                    Style::Host => 128,
                    Style::Subnet | Style::Class => prefix_length(own.netmask, 128),
                };
                let mask = if length == 0 {
                    0
                } else {
                    u128::MAX << (128 - length)
                };
                format!("[{}]/{length}", Ipv6Addr::from(bits & mask))
            }
        };
        if !networks.contains(&network) {
            networks.push(network);
        }
    }
    Ok(networks.join(" ").into_bytes())
}

/// The interface check mail_params_init() makes itself (once more when
/// `mynetworks` was computed: the same answer).
pub fn check_interfaces(protocols: Protocols, interfaces: &[u8]) -> Result<()> {
    if protocols.any() {
        own_addresses(protocols, interfaces)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<T: std::fmt::Debug>(result: Result<T>) -> String {
        match result {
            Ok(v) => format!("{v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn protocol_and_style_names() {
        assert_eq!(
            text(protocols(b"ipv4, bogus")),
            "unknown inet_protocols value \"bogus\" in \"ipv4, bogus\""
        );
        assert_eq!(
            text(protocols(b"IPv4")),
            "unknown inet_protocols value \"IPv4\" in \"IPv4\""
        );
        assert_eq!(protocols(b"").unwrap(), Protocols::default());
        assert_eq!(text(style(b"host")), "Host");
        assert_eq!(
            text(style(b"host subnet")),
            "bad mynetworks_style value: host subnet; specify exactly one value"
        );
        assert_eq!(
            text(style(b"Host")),
            "unknown mynetworks mask style value \"Host\" in \"Host\""
        );
    }

    #[test]
    fn hosts_that_do_not_resolve_or_are_not_local() {
        let v4 = Protocols {
            ipv4: true,
            ipv6: false,
        };
        assert_eq!(
            text(check_interfaces(v4, b"[::1]")),
            "config variable inet_interfaces: host not found: [::1]"
        );
        assert_eq!(
            text(check_interfaces(v4, b"192.0.2.1")),
            "parameter inet_interfaces: no local interface found for 192.0.2.1"
        );
        assert!(check_interfaces(Protocols::default(), b"bogus").is_ok());
    }
}
