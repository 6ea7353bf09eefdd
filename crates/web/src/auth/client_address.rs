//! SECURITY-SENSITIVE. The client's network address, for the audit trail and the sign-in
//! throttle. Behind a TLS proxy the TCP peer is the proxy; its `X-Forwarded-For` is believed
//! only when the peer is one of the configured `trusted_proxies`, and then the client is the
//! right-most address in it that is not itself a trusted proxy (addresses further left were
//! written by the client and can say anything).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

/// The address a request came from, as decided once per request by `request_context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// One trusted proxy: an address, or a network in CIDR form (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let invalid = || format!("\"{text}\" is not an IP address or a network such as 10.0.0.0/8");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let base: IpAddr = address.parse().map_err(|_| invalid())?;
        let width = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().map_err(|_| invalid())?,
            None => width,
        };
        if prefix > width {
            return Err(invalid());
        }
        Ok(Network { base, prefix })
    }

    fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        match (self.base, address) {
            (IpAddr::V4(base), IpAddr::V4(address)) => {
                same_prefix(&base.octets(), &address.octets(), self.prefix)
            }
            (IpAddr::V6(base), IpAddr::V6(address)) => {
                same_prefix(&base.octets(), &address.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(base: &[u8], address: &[u8], prefix: u8) -> bool {
    let mut bits_left = u32::from(prefix);
    for (base_byte, address_byte) in base.iter().zip(address) {
        if bits_left == 0 {
            return true;
        }
        let take = bits_left.min(8);
        let mask = (0xffu16 << (8 - take)) as u8;
        if base_byte & mask != address_byte & mask {
            return false;
        }
        bits_left -= take;
    }
    true
}

/// An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`; treat it as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed. Empty (the default): none, the TCP peer
/// is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Parses the `trusted_proxies` setting; the error names the entry at fault.
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|entry| Network::parse(entry))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// The client's address for a request from `peer` with these headers.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // Every X-Forwarded-For header, in order, as one list; walk it from the right.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|hop| !hop.is_empty())
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(address) = parse_hop(hop) else {
                // Garbage cannot be the client; the last proxy that passed it on is the best
                // we know.
                return client;
            };
            client = canonical(address);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(address);
    }
    hop.parse::<SocketAddr>().ok().map(|socket| socket.ip())
}

/// The client's address as text, for the audit trail and the throttle.
pub fn from_extensions(extensions: &Extensions) -> Option<String> {
    extensions
        .get::<ClientAddress>()
        .map(|client| client.0)
        .or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| canonical(info.0.ip()))
        })
        .map(|address| address.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append("x-forwarded-for", value);
            }
        }
        headers
    }

    fn proxies(entries: &[&str]) -> TrustedProxies {
        let entries: Vec<String> = entries.iter().map(|entry| entry.to_string()).collect();
        TrustedProxies::parse(&entries).unwrap_or_default()
    }

    #[test]
    fn networks_parse_and_match() {
        let trusted = proxies(&["10.0.0.0/8", "192.168.1.7", "fd00::/8"]);
        assert!(trusted.trusts(ip("10.200.3.4")));
        assert!(!trusted.trusts(ip("11.0.0.1")));
        assert!(trusted.trusts(ip("192.168.1.7")));
        assert!(!trusted.trusts(ip("192.168.1.8")));
        assert!(trusted.trusts(ip("fd12::1")));
        assert!(trusted.trusts(ip("::ffff:10.1.2.3")), "IPv4-mapped peers");
        assert!(TrustedProxies::parse(&["10.0.0.0/33".to_string()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.example".to_string()]).is_err());
        assert!(proxies(&["0.0.0.0/0"]).trusts(ip("8.8.8.8")));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_peer() {
        let trusted = proxies(&["10.0.0.1"]);
        let headers = forwarded(&["203.0.113.7"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
        assert_eq!(
            trusted.client_address(ip("198.51.100.9"), &headers),
            ip("198.51.100.9"),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            TrustedProxies::default().client_address(ip("10.0.0.1"), &headers),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The client wrote the first entry itself; the proxies appended the rest.
        let headers = forwarded(&["1.1.1.1, 203.0.113.7, 10.0.0.5"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
        let split = forwarded(&["1.1.1.1", "203.0.113.7:4431"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &split),
            ip("203.0.113.7")
        );
        let garbage = forwarded(&["1.1.1.1, not-an-address, 10.0.0.5"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &garbage),
            ip("10.0.0.5")
        );
        let only_proxies = forwarded(&["10.0.0.9"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &only_proxies),
            ip("10.0.0.9")
        );
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        let v6 = forwarded(&["[2001:db8::1]:443"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &v6),
            ip("2001:db8::1")
        );
    }
}
