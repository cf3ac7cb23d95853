//! Which network addresses a URL input may reach. A service that fetches pages for its
//! callers must not be made to fetch its own loopback, the machine's private network or the
//! cloud's metadata endpoint for them (server-side request forgery): under
//! [`AddressPolicy::PublicOnly`] every host is resolved and checked before each request
//! (the first and every redirect), and the HTTP client connects only to addresses that
//! passed, so a name that resolves differently the second time cannot slip through.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Which addresses fetching may connect to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Any address: a person fetching their own pages, their intranet included.
    #[default]
    Any,
    /// Public addresses only; `except` lists addresses allowed all the same (an operator's
    /// own CMS on the private network, say).
    PublicOnly { except: Vec<IpAddr> },
}

impl AddressPolicy {
    /// Whether a connection to `address` is allowed.
    pub fn allows(&self, address: IpAddr) -> bool {
        match self {
            AddressPolicy::Any => true,
            AddressPolicy::PublicOnly { except } => {
                is_public(address) || except.contains(&canonical(address))
            }
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is that IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `address` is on the public internet: not loopback, private, link-local (where
/// the cloud metadata services live), shared (carrier-grade NAT, where some clouds put
/// theirs), unspecified, multicast or broadcast, in either IP version.
pub fn is_public(address: IpAddr) -> bool {
    match canonical(address) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    let this_network = a == 0;
    let reserved = a >= 240;
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || shared
        || this_network
        || reserved)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00;
    let link_local = first & 0xffc0 == 0xfe80;
    let site_local = first & 0xffc0 == 0xfec0;
    // 64:ff9b::/96 translates to IPv4: judge the address inside.
    let nat64 = ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if nat64 {
        let [.., c, d] = ip.segments();
        let embedded = Ipv4Addr::from((u32::from(c) << 16) | u32::from(d));
        return is_public_v4(embedded);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || site_local)
}

/// The first address of `addresses` the policy refuses, if any is refused and none allowed.
pub(super) fn refused(policy: &AddressPolicy, addresses: &[IpAddr]) -> Option<IpAddr> {
    if addresses.iter().any(|&address| policy.allows(address)) {
        return None;
    }
    addresses.first().copied()
}

/// Resolves `host` (a name or an address literal) to the addresses a connection could use.
pub(super) async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(address) = bare.parse::<IpAddr>() {
        return Ok(vec![address]);
    }
    Ok(tokio::net::lookup_host((bare, port))
        .await?
        .map(|socket| socket.ip())
        .collect())
}

/// The addresses `host` (a name or an address literal) resolves to, for callers outside
/// fetching that must check a host against a policy themselves (webhooks).
pub async fn resolve_host(host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
    resolve(host, port).await
}

/// The client's resolver under a policy: it hands reqwest only the addresses the policy
/// allows, so what was checked is what is connected to.
#[derive(Debug)]
pub(super) struct GuardedResolver {
    pub policy: AddressPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let found = resolve(name.as_str(), 0).await?;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|&address| policy.allows(address))
                .map(|address| SocketAddr::new(address, 0))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The resolver to give reqwest for `policy`, if it needs one.
pub(super) fn resolver(policy: &AddressPolicy) -> Option<Arc<GuardedResolver>> {
    match policy {
        AddressPolicy::Any => None,
        AddressPolicy::PublicOnly { .. } => Some(Arc::new(GuardedResolver {
            policy: policy.clone(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_not_public() {
        for address in [
            "127.0.0.1",
            "127.0.0.2",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip(address)), "{address}");
        }
        for address in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(address)), "{address}");
        }
    }

    #[test]
    fn a_policy_allows_public_addresses_and_its_exceptions() {
        let policy = AddressPolicy::PublicOnly {
            except: vec![ip("10.1.2.3")],
        };
        assert!(policy.allows(ip("8.8.8.8")));
        assert!(policy.allows(ip("10.1.2.3")));
        assert!(policy.allows(ip("::ffff:10.1.2.3")));
        assert!(!policy.allows(ip("10.1.2.4")));
        assert!(AddressPolicy::Any.allows(ip("127.0.0.1")));
        assert_eq!(refused(&policy, &[ip("127.0.0.1")]), Some(ip("127.0.0.1")));
        assert_eq!(refused(&policy, &[ip("127.0.0.1"), ip("8.8.8.8")]), None);
        assert_eq!(refused(&AddressPolicy::Any, &[ip("127.0.0.1")]), None);
    }
}
