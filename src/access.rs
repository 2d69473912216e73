//! `--allow` / `--deny`: which client addresses a server accepts, as addresses and CIDR ranges, IPv4 and
//! IPv6. A refused client is closed before any byte is read from it.
//!
//! Rules: a client matching any `--deny` entry is refused; otherwise, when `--allow` entries exist, a
//! client must match one of them. IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, how a dual-stack
//! listener sees IPv4 clients) are matched as the IPv4 address they carry, and so are entries written
//! that way (`--deny ::ffff:10.0.0.0/104` is `--deny 10.0.0.0/8`): both sides are normalised alike,
//! so a rule means the same whichever family the client arrived on. An empty entry is a usage error:
//! an empty shell variable must not remove the filter.

use std::net::IpAddr;

use anyhow::Result;
use ipnet::IpNet;

use crate::error::usage;

/// The parsed `--allow` and `--deny` lists.
#[derive(Debug, Clone, Default)]
pub struct Access {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

impl Access {
    /// Parses the flag values; each may hold several entries separated by commas.
    pub fn from_args(allow: &[String], deny: &[String]) -> Result<Access> {
        Ok(Access {
            allow: parse_list("--allow", allow)?,
            deny: parse_list("--deny", deny)?,
        })
    }

    /// Whether `ip` may connect.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if self.deny.iter().any(|net| net.contains(&ip)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|net| net.contains(&ip))
    }
}

/// An IPv4-mapped IPv6 range (`::ffff:0:0/96` and narrower) as the IPv4 range it covers.
fn unmap(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}

/// Parses `10.0.0.0/8,::1` style lists; a bare address is a single-host range.
pub fn parse_list(flag: &str, values: &[String]) -> Result<Vec<IpNet>> {
    let mut nets = Vec::new();
    for value in values {
        for entry in value.split(',').map(str::trim) {
            if entry.is_empty() {
                return Err(usage(format!(
                    "invalid {flag} value '{value}': an entry is empty"
                )));
            }
            let net = match entry.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => match entry.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(usage(format!(
                            "invalid {flag} entry '{entry}': expected an IP address or a CIDR range like 10.0.0.0/8 or fd00::/8"
                        )))
                    }
                },
            };
            nets.push(unmap(net.trunc()));
        }
    }
    Ok(nets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(allow: &str, deny: &str) -> Access {
        let v = |s: &str| {
            if s.is_empty() {
                vec![]
            } else {
                vec![s.to_string()]
            }
        };
        Access::from_args(&v(allow), &v(deny)).unwrap()
    }

    #[test]
    fn rules() {
        let open = access("", "");
        assert!(open.permits("8.8.8.8".parse().unwrap()));
        let a = access("127.0.0.0/8,::1", "127.0.0.2");
        assert!(a.permits("127.0.0.1".parse().unwrap()));
        assert!(!a.permits("127.0.0.2".parse().unwrap()));
        assert!(a.permits("::1".parse().unwrap()));
        assert!(!a.permits("10.1.2.3".parse().unwrap()));
        // A dual-stack listener sees IPv4 clients as mapped addresses.
        assert!(a.permits("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!a.permits("::ffff:127.0.0.2".parse().unwrap()));
        let d = access("", "10.0.0.0/8");
        assert!(!d.permits("10.9.9.9".parse().unwrap()));
        assert!(d.permits("11.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_entries_name_themselves() {
        let e = Access::from_args(&["10.0.0.0/33".into()], &[]).unwrap_err();
        assert!(e
            .to_string()
            .contains("invalid --allow entry '10.0.0.0/33'"));
        assert!(Access::from_args(&[], &["example.com".into()]).is_err());
        for empty in ["", "a,,b", "10.0.0.1,", " "] {
            assert!(
                Access::from_args(&[empty.into()], &[]).is_err(),
                "{empty:?}"
            );
        }
    }

    #[test]
    fn mapped_entries_mean_their_ipv4_address() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        for rule in ["::ffff:127.0.0.1", "127.0.0.1", "::ffff:127.0.0.0/104"] {
            let deny = access("", rule);
            assert!(!deny.permits(v4) && !deny.permits(mapped), "--deny {rule}");
            let allow = access(rule, "");
            assert!(allow.permits(v4) && allow.permits(mapped), "--allow {rule}");
            assert!(
                !allow.permits("10.0.0.1".parse().unwrap()),
                "--allow {rule}"
            );
        }
        // Not mapped: stays IPv6.
        assert!(!access("::1", "").permits(v4));
    }
}
