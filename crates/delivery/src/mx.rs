//! The order in which a domain's mail hosts are tried (RFC 5321 section 5.1), from its MX records,
//! without I/O.

/// What the MX records of a domain say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exchanges {
    /// The domain publishes a null MX (RFC 7505): it accepts no mail. Any `.` exchange counts, as
    /// in `sealpost-dnsauth`'s MX check, since a domain that published one asked not to be sent to.
    NullMx,
    /// The host names to try, in order.
    Hosts(Vec<String>),
}

/// Orders `records` (preference, exchange) by preference, lowest first. Hosts of equal preference
/// are shuffled with the keys `random` gives, as RFC 5321 section 5.1 asks so that senders spread
/// their load; a host listed twice is tried once.
pub(crate) fn order_exchanges(
    records: Vec<(u16, String)>,
    mut random: impl FnMut() -> u64,
) -> Exchanges {
    if records.iter().any(|(_, exchange)| exchange == ".") {
        return Exchanges::NullMx;
    }
    let mut keyed: Vec<(u16, u64, String)> = records
        .into_iter()
        .map(|(preference, exchange)| (preference, random(), exchange))
        .collect();
    keyed.sort_by_key(|(preference, key, _)| (*preference, *key));
    let mut hosts: Vec<String> = Vec::with_capacity(keyed.len());
    for (_, _, exchange) in keyed {
        if !hosts
            .iter()
            .any(|host| host.eq_ignore_ascii_case(&exchange))
        {
            hosts.push(exchange);
        }
    }
    Exchanges::Hosts(hosts)
}

/// A random shuffle key from the operating system's generator (through aws-lc-rs). Should the
/// generator fail, every key is 0 and hosts of equal preference keep the order DNS gave, which is
/// still correct, only less evenly spread.
pub(crate) fn random_key() -> u64 {
    let mut bytes = [0u8; 8];
    match aws_lc_rs::rand::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(list: &[(u16, &str)]) -> Vec<(u16, String)> {
        list.iter()
            .map(|(preference, host)| (*preference, (*host).to_owned()))
            .collect()
    }

    fn hosts(list: &[&str]) -> Exchanges {
        Exchanges::Hosts(list.iter().map(|host| (*host).to_owned()).collect())
    }

    #[test]
    fn lowest_preference_first() {
        let keys = || 0;
        assert_eq!(
            order_exchanges(
                records(&[(20, "b.test"), (10, "a.test"), (30, "c.test")]),
                keys
            ),
            hosts(&["a.test", "b.test", "c.test"])
        );
        assert_eq!(
            order_exchanges(records(&[(10, "a.test"), (20, "A.TEST")]), keys),
            hosts(&["a.test"])
        );
    }

    #[test]
    fn equal_preferences_follow_the_random_keys() {
        let mut next = [3u64, 1, 2, 0].into_iter();
        let ordered = order_exchanges(
            records(&[
                (10, "x.test"),
                (10, "y.test"),
                (10, "z.test"),
                (5, "first.test"),
            ]),
            || next.next().unwrap_or(0),
        );
        assert_eq!(
            ordered,
            hosts(&["first.test", "y.test", "z.test", "x.test"])
        );
    }

    #[test]
    fn null_mx() {
        assert_eq!(
            order_exchanges(records(&[(0, ".")]), random_key),
            Exchanges::NullMx
        );
        assert_eq!(
            order_exchanges(records(&[(10, "a.test"), (0, ".")]), random_key),
            Exchanges::NullMx
        );
    }
}
