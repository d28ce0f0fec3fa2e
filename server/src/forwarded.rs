//! The client's address behind reverse proxies.
//!
//! `X-Forwarded-For` is a list each proxy appends to: the left-most entries are
//! whatever the client wrote, so only the right-most ones can be believed.
//! The client is the right-most entry that is not one of our own proxies
//! (`trusted_proxies`: addresses or CIDR ranges); with `trust_proxy` and no
//! list, the peer is the one proxy and the right-most entry is the client. A
//! request that does not come from a trusted proxy keeps its peer address,
//! whatever headers it sends. Rate limits and the audit log use this address.

use std::net::IpAddr;

/// Which peers may tell us the client's address.
#[derive(Debug, Clone, Default)]
pub struct ProxyTrust {
    pub enabled: bool,
    /// Our proxies; empty: the peer alone.
    pub proxies: Vec<(IpAddr, u8)>,
}

impl ProxyTrust {
    /// From the settings; a range that does not parse is an error naming it.
    pub fn new(enabled: bool, proxies: &[String]) -> anyhow::Result<ProxyTrust> {
        let proxies = proxies
            .iter()
            .map(|p| {
                parse_range(p).ok_or_else(|| {
                    anyhow::anyhow!(
                        "trusted_proxies: `{p}` is not an address or a range such as 10.0.0.0/8"
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(ProxyTrust { enabled, proxies })
    }

    fn is_proxy(&self, ip: IpAddr) -> bool {
        self.proxies
            .iter()
            .any(|(net, bits)| within(ip, *net, *bits))
    }

    /// The client's address for a request from `peer` with this
    /// `X-Forwarded-For` (all its header lines, joined).
    pub fn client(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> String {
        let peer_text = peer.map(|p| p.to_string()).unwrap_or_default();
        let peer_trusted =
            self.enabled && peer.is_some_and(|p| self.proxies.is_empty() || self.is_proxy(p));
        let Some(list) = forwarded_for.filter(|_| peer_trusted) else {
            return peer_text;
        };
        let mut last = None;
        for entry in list.rsplit(',').map(str::trim).filter(|e| !e.is_empty()) {
            match parse_ip(entry) {
                Some(ip) if !self.proxies.is_empty() && self.is_proxy(ip) => last = Some(ip),
                Some(ip) => return ip.to_string(),
                // Not an address: nothing left of it can be believed.
                None => return entry.chars().take(64).collect(),
            }
        }
        // Every hop is ours: the left-most is where the request came from.
        last.map(|ip| ip.to_string()).unwrap_or(peer_text)
    }
}

/// An entry of the header: an address, maybe with a port (`1.2.3.4:5678`,
/// `[::1]:80`).
fn parse_ip(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    entry.rsplit_once(':')?.0.parse().ok()
}

fn parse_range(text: &str) -> Option<(IpAddr, u8)> {
    let text = text.trim();
    let (ip, bits) = match text.split_once('/') {
        Some((ip, bits)) => (ip.parse::<IpAddr>().ok()?, bits.parse::<u8>().ok()?),
        None => {
            let ip = text.parse::<IpAddr>().ok()?;
            (ip, if ip.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

fn within(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|a| within(IpAddr::V4(a), net, bits)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_forged_left_entry_is_ignored_and_the_right_most_untrusted_is_the_client() {
        let one = ProxyTrust::new(true, &[]).unwrap();
        assert_eq!(
            one.client(ip("10.0.0.5"), Some("6.6.6.6, 203.0.113.7")),
            "203.0.113.7"
        );
        let ours = ProxyTrust::new(true, &["10.0.0.0/8".into(), "192.0.2.1".into()]).unwrap();
        assert_eq!(
            ours.client(
                ip("10.0.0.5"),
                Some("6.6.6.6, 203.0.113.7, 192.0.2.1, 10.1.2.3")
            ),
            "203.0.113.7"
        );
        assert_eq!(
            ours.client(ip("10.0.0.5"), Some("203.0.113.7:5555")),
            "203.0.113.7"
        );
        assert_eq!(
            ours.client(ip("10.0.0.5"), Some("[2001:db8::1]:443")),
            "2001:db8::1"
        );
    }

    #[test]
    fn headers_from_a_peer_that_is_not_our_proxy_are_not_believed() {
        let ours = ProxyTrust::new(true, &["10.0.0.0/8".into()]).unwrap();
        assert_eq!(
            ours.client(ip("198.51.100.9"), Some("1.2.3.4")),
            "198.51.100.9"
        );
        let off = ProxyTrust::new(false, &[]).unwrap();
        assert_eq!(
            off.client(ip("198.51.100.9"), Some("1.2.3.4")),
            "198.51.100.9"
        );
    }

    #[test]
    fn ranges_are_checked_when_read() {
        assert!(ProxyTrust::new(true, &["10.0.0.0/33".into()]).is_err());
        assert!(ProxyTrust::new(true, &["proxy.local".into()]).is_err());
        assert!(ProxyTrust::new(true, &["::1".into(), "fd00::/8".into()]).is_ok());
    }
}
